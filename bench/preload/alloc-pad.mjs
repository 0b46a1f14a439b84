// The allocation probe's check (bench/alloc.ts): preloaded with it into the raw echo, makes every JSON.parse
// allocate one more fresh string of exactly 1,024 bytes on the V8 heap (a sequential one-byte string: a 16-byte
// header and 1,008 characters), so that a server that parses each request once must measure +1,024 bytes per request.
const PAD = Buffer.alloc(1008, "x");
const parse = JSON.parse;
const kept = [""];

JSON.parse = (text, reviver) => {
  kept[0] = PAD.toString("latin1");
  return parse(text, reviver);
};

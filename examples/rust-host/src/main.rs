//! A scenario against the sidecar; every step prints one line (the e2e test
//! checks them) and any surprise ends the run with exit code 1.
//!
//!   rust-host [--framing=ndjson|content-length] [--node=PATH] [--sidecar=PATH]
//!   rust-host --connect=unix:PATH|tcp:HOST:PORT [--token-file=FILE] [--framing=...]
//!
//! Without --connect it spawns `node <sidecar>` (default: this repository's
//! bin/harn-registry) and talks over stdin/stdout.

use harn_registry_rust_host::{Client, Error, Framing};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

/// FNV-1a's offset basis: a u64 above 2^53, which a JavaScript number would round.
const HASH: u64 = 14_695_981_039_346_656_037;

type Failure = Box<dyn std::error::Error>;

struct Options {
    framing: Framing,
    node: String,
    sidecar: PathBuf,
    connect: Option<String>,
    token_file: Option<PathBuf>,
}

fn options() -> Result<Options, Failure> {
    let mut options = Options {
        framing: Framing::Ndjson,
        node: "node".to_string(),
        sidecar: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bin/harn-registry"),
        connect: None,
        token_file: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        // --flag=value or --flag value
        let (flag, value) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_string(), value.to_string()),
            None => (arg.clone(), args.next().ok_or(format!("{} needs a value", arg))?),
        };
        match flag.as_str() {
            "--framing" => options.framing = Framing::parse(&value).ok_or(format!("--framing: {}", value))?,
            "--node" => options.node = value,
            "--sidecar" => options.sidecar = value.into(),
            "--connect" => options.connect = Some(value),
            "--token-file" => options.token_file = Some(value.into()),
            _ => return Err(format!("unknown flag {}", flag).into()),
        }
    }
    Ok(options)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("rust-host: {}", e);
        std::process::exit(1);
    }
}

fn run() -> Result<(), Failure> {
    let options = options()?;
    // The callback runs on the reader thread; it forwards to this one.
    let (events_tx, events) = mpsc::channel::<(String, Value)>();
    let on_notification = Box::new(move |method: &str, params: Value| {
        let _ = events_tx.send((method.to_string(), params));
    });
    let client = match &options.connect {
        Some(address) => Client::connect(address, options.token_file.as_deref(), options.framing, on_notification)?,
        None => Client::spawn(&options.node, &options.sidecar, &[], options.framing, on_notification)?,
    };
    scenario(&client, &events)?;
    match client.close()? {
        Some(status) if status.success() => println!("shutdown, exit: the sidecar exited with status 0"),
        Some(status) => return Err(format!("the sidecar exited with {}", status).into()),
        None => println!("shutdown, exit: the server closed the connection"),
    }
    Ok(())
}

fn scenario(client: &Client, events: &Receiver<(String, Value)>) -> Result<(), Failure> {
    let init = client.request("initialize", json!({ "client_name": "rust-host", "events": true }))?;
    println!("initialize: framing={}", init["framing"].as_str().unwrap_or("?"));

    let editor = register(client, "editor")?;
    let helper = register(client, "helper")?;
    println!("agent_register: editor={} helper={}", editor, helper);
    // Sent before the reply, so the callback already has it.
    let event = next_event(events, "agent/registered", |p| p["agent_id"] == editor)?;
    println!("notification: agent/registered agent_id={} name={}", event["agent_id"], event["name"].as_str().unwrap_or("?"));

    let mine = client.request("lock_try", json!({ "agent_id": editor, "path": "src/main.rs" }))?;
    println!("lock_try editor: locked={} holder={}", mine["locked"], mine["holder"]);
    let refused = client.request("lock_try", json!({ "agent_id": helper, "path": "./src//main.rs" }))?;
    println!("lock_try helper: locked={} holder={}", refused["locked"], refused["holder"]);
    ensure(refused["locked"] == false && refused["holder"] == editor, "the second lock_try names the holder")?;
    let granted = next_event(events, "lock/granted", |p| p["agent_id"] == editor)?;
    let fence = granted["fence"].as_u64().ok_or("lock/granted without a fence")?;
    println!("notification: lock/granted agent_id={} path={} fence={}", granted["agent_id"], granted["path"].as_str().unwrap_or("?"), fence);

    // serde_json keeps a u64 exact: the hash goes out as a bare JSON number.
    let params = json!({ "agent_id": editor, "path": "src/main.rs", "hash": HASH, "size": 120, "fence": fence });
    ensure(params.to_string().contains("\"hash\":14695981039346656037"), "the hash is sent as a bare number")?;
    let seq = client.request("version_record", params)?;
    println!("version_record: seq={} hash={} sent as a JSON number", seq, HASH);
    // ... and comes back as a decimal string.
    let changes = client.request("changes_since", json!({ "seq": 0 }))?;
    let text = changes[0]["hash"].as_str().ok_or("changes_since: hash is not a string")?;
    ensure(text.parse::<u64>()? == HASH, "the hash comes back exact")?;
    println!("changes_since: hash \"{}\" == {} exact", text, HASH);

    // Replies are matched by id: this acquire waits in the sidecar, and the
    // release sent after it is answered while it waits.
    let waiting = client.send("lock_acquire", json!({ "agent_id": helper, "paths": ["src/main.rs"], "wait_ms": 10_000 }))?;
    let released = client.request("lock_release", json!({ "agent_id": editor, "path": "src/main.rs" }))?;
    let acquired = waiting.wait()?;
    ensure(released == true && acquired["granted"] == true, "the waiting acquire is granted on release")?;
    println!(
        "lock_acquire helper: waited, granted={} fence={} after lock_release={}",
        acquired["granted"], acquired["locks"][0]["fence"], released
    );

    // The editor's fence died with its lock: a late write is refused.
    match client.request("version_record", json!({ "agent_id": editor, "path": "src/main.rs", "hash": HASH, "fence": fence })) {
        Err(Error::Rpc(e)) if e.code == 1005 => {
            println!("version_record with stale fence {}: error {} {}", fence, e.code, e.name().unwrap_or("?"))
        }
        other => return Err(format!("expected stale_fence, got {:?}", other).into()),
    }
    Ok(())
}

fn register(client: &Client, name: &str) -> Result<u64, Failure> {
    let id = client.request("agent_register", json!({ "name": name }))?;
    Ok(id.as_u64().ok_or(format!("agent_register: not an id: {}", id))?)
}

/// The next notification `method` whose params pass `matches` (others are skipped).
fn next_event(events: &Receiver<(String, Value)>, method: &str, matches: impl Fn(&Value) -> bool) -> Result<Value, Failure> {
    loop {
        let (name, params) = events
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| format!("no {} notification", method))?;
        if name == method && matches(&params) {
            return Ok(params);
        }
    }
}

fn ensure(condition: bool, what: &str) -> Result<(), Failure> {
    if condition {
        Ok(())
    } else {
        Err(format!("expected: {}", what).into())
    }
}

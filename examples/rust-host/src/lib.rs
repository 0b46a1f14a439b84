//! A small host for the harn-registry sidecar: std plus `serde_json`.
//!
//! One reader thread owns the incoming half of the connection. It parses
//! frames (NDJSON or Content-Length, told apart frame by frame), hands each
//! reply to the caller waiting for its id and each notification (a message
//! with `method` and no `id`) to a callback. Callers only write and wait, so
//! any number of requests can be in flight, from any number of threads, and
//! replies may come back in any order (a waiting `lock_acquire` is answered
//! after requests sent later).

use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

/// How this host frames what it writes. The sidecar answers in the framing
/// of the requests it reads; the reader here accepts either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// One JSON message per line (Harn's stdio clients).
    Ndjson,
    /// `Content-Length: N\r\n\r\n` then N bytes (LSP / vscode-jsonrpc).
    ContentLength,
}

impl Framing {
    pub fn parse(name: &str) -> Option<Framing> {
        match name {
            "ndjson" => Some(Framing::Ndjson),
            "content-length" => Some(Framing::ContentLength),
            _ => None,
        }
    }
}

/// A JSON-RPC error reply: `code`, `message` and optional `data`.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    /// The name of a domain error (`data.error`, e.g. `"stale_fence"` for 1005).
    pub fn name(&self) -> Option<&str> {
        self.data.as_ref()?.get("error")?.as_str()
    }
}

#[derive(Debug)]
pub enum Error {
    Io(io::Error),
    /// The sidecar answered with an error.
    Rpc(RpcError),
    /// The connection ended before the reply arrived (or was closed by us).
    Closed,
    /// Bytes that are not a JSON-RPC message.
    Protocol(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "i/o: {}", e),
            Error::Rpc(e) => write!(f, "error {}: {}", e.code, e.message),
            Error::Closed => write!(f, "the connection to the sidecar is closed"),
            Error::Protocol(what) => write!(f, "protocol: {}", what),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::Io(e)
    }
}

/// Called on the reader thread with each notification's `method` and
/// `params`. It must not wait for a reply of the same client: replies are
/// read by the thread that is running it.
pub type OnNotification = Box<dyn FnMut(&str, Value) + Send>;

type Waiters = HashMap<u64, Sender<Result<Value, Error>>>;
/// `None` once the reader has stopped: nothing will be answered any more.
type Pending = Arc<Mutex<Option<Waiters>>>;

/// What to close when the client is done.
enum Peer {
    Child(Child),
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
}

/// A connection to one sidecar: a spawned child or a socket server.
pub struct Client {
    framing: Framing,
    /// `None` after `close`.
    writer: Mutex<Option<Box<dyn Write + Send>>>,
    next_id: AtomicU64,
    pending: Pending,
    reader: Option<JoinHandle<()>>,
    peer: Option<Peer>,
}

/// A request on its way: [`Reply::wait`] blocks until its reply is read.
pub struct Reply {
    pub id: u64,
    rx: Receiver<Result<Value, Error>>,
}

impl Reply {
    pub fn wait(self) -> Result<Value, Error> {
        // The reader drops every sender when the connection ends.
        self.rx.recv().unwrap_or(Err(Error::Closed))
    }
}

impl Client {
    /// Spawn `node <bin> [args]` and talk to it over its stdin/stdout.
    /// Its stderr (logs) is inherited.
    pub fn spawn(
        node: &str,
        bin: &Path,
        args: &[String],
        framing: Framing,
        on_notification: OnNotification,
    ) -> Result<Client, Error> {
        let mut child = Command::new(node)
            .arg(bin)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        Ok(Client::start(
            framing,
            Box::new(stdin),
            Box::new(stdout),
            Peer::Child(child),
            on_notification,
        ))
    }

    /// Connect to a socket server at `unix:PATH` or `tcp:HOST:PORT`. With a
    /// token file, authenticate first with `initialize {auth_token}` (the
    /// file's content, trimmed), as a TCP server requires.
    pub fn connect(
        address: &str,
        token_file: Option<&Path>,
        framing: Framing,
        on_notification: OnNotification,
    ) -> Result<Client, Error> {
        let client = if let Some(addr) = address.strip_prefix("tcp:") {
            let stream = TcpStream::connect(addr)?;
            stream.set_nodelay(true)?;
            let (read, write) = (stream.try_clone()?, stream.try_clone()?);
            Client::start(framing, Box::new(write), Box::new(read), Peer::Tcp(stream), on_notification)
        } else if let Some(path) = address.strip_prefix("unix:") {
            Client::connect_unix(path, framing, on_notification)?
        } else {
            return Err(Error::Protocol(format!("not unix:PATH or tcp:HOST:PORT: {}", address)));
        };
        if let Some(file) = token_file {
            let token = std::fs::read_to_string(file)?;
            client.request("initialize", json!({ "auth_token": token.trim() }))?;
        }
        Ok(client)
    }

    #[cfg(unix)]
    fn connect_unix(path: &str, framing: Framing, on_notification: OnNotification) -> Result<Client, Error> {
        let stream = UnixStream::connect(path)?;
        let (read, write) = (stream.try_clone()?, stream.try_clone()?);
        Ok(Client::start(framing, Box::new(write), Box::new(read), Peer::Unix(stream), on_notification))
    }

    #[cfg(not(unix))]
    fn connect_unix(_: &str, _: Framing, _: OnNotification) -> Result<Client, Error> {
        Err(Error::Protocol("unix sockets need a unix system".into()))
    }

    fn start(
        framing: Framing,
        writer: Box<dyn Write + Send>,
        reader: Box<dyn Read + Send>,
        peer: Peer,
        on_notification: OnNotification,
    ) -> Client {
        let pending: Pending = Arc::new(Mutex::new(Some(HashMap::new())));
        let routes = Arc::clone(&pending);
        let reader = thread::spawn(move || read_loop(BufReader::new(reader), routes, on_notification));
        Client {
            framing,
            writer: Mutex::new(Some(writer)),
            next_id: AtomicU64::new(1),
            pending,
            reader: Some(reader),
            peer: Some(peer),
        }
    }

    /// Send a request and wait for its reply (`Value::Null` params are left out): the `result`, or the error.
    pub fn request(&self, method: &str, params: Value) -> Result<Value, Error> {
        self.send(method, params)?.wait()
    }

    /// Send a request without waiting; [`Reply::wait`] collects the reply.
    pub fn send(&self, method: &str, params: Value) -> Result<Reply, Error> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel();
        // Register before writing, so a fast reply always finds its waiter.
        match self.pending.lock().unwrap().as_mut() {
            Some(waiters) => waiters.insert(id, tx),
            None => return Err(Error::Closed),
        };
        if let Err(e) = self.write(message(Some(id), method, params)) {
            if let Some(waiters) = self.pending.lock().unwrap().as_mut() {
                waiters.remove(&id);
            }
            return Err(e);
        }
        Ok(Reply { id, rx })
    }

    /// Send a notification (no id, no reply).
    pub fn notify(&self, method: &str, params: Value) -> Result<(), Error> {
        self.write(message(None, method, params))
    }

    fn write(&self, message: Value) -> Result<(), Error> {
        let body = serde_json::to_vec(&message).map_err(|e| Error::Protocol(e.to_string()))?;
        let mut frame = Vec::with_capacity(body.len() + 32);
        match self.framing {
            Framing::Ndjson => {
                frame.extend_from_slice(&body);
                frame.push(b'\n');
            }
            Framing::ContentLength => {
                frame.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
                frame.extend_from_slice(&body);
            }
        }
        // One write per frame under the lock: frames of concurrent callers never interleave.
        let mut writer = self.writer.lock().unwrap();
        let w = writer.as_mut().ok_or(Error::Closed)?;
        w.write_all(&frame)?;
        w.flush()?;
        Ok(())
    }

    /// End the session the LSP way: `shutdown`, then the `exit`
    /// notification; wait until the sidecar ends the connection. Returns
    /// the child's exit status (0 after `shutdown`), `None` for a socket.
    pub fn close(mut self) -> Result<Option<ExitStatus>, Error> {
        self.request("shutdown", Value::Null)?;
        self.notify("exit", Value::Null)?;
        // Drop our writing half: EOF for a child, nothing more to send.
        self.writer.lock().unwrap().take();
        let status = match self.peer.take() {
            Some(Peer::Child(mut child)) => Some(child.wait()?),
            // The server ends the connection on `exit` (the reader sees EOF);
            // our EOF tells it the same, should it not.
            Some(Peer::Tcp(stream)) => {
                let _ = stream.shutdown(Shutdown::Write);
                None
            }
            #[cfg(unix)]
            Some(Peer::Unix(stream)) => {
                let _ = stream.shutdown(Shutdown::Write);
                None
            }
            None => None,
        };
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        Ok(status)
    }
}

impl Drop for Client {
    /// Without `close`: close our half and reap the child (EOF on its stdin
    /// makes the sidecar exit 0 once it has answered what it read).
    fn drop(&mut self) {
        if let Ok(mut writer) = self.writer.lock() {
            writer.take();
        }
        match self.peer.take() {
            Some(Peer::Child(mut child)) => {
                let _ = child.wait();
            }
            Some(Peer::Tcp(stream)) => {
                let _ = stream.shutdown(Shutdown::Both);
            }
            #[cfg(unix)]
            Some(Peer::Unix(stream)) => {
                let _ = stream.shutdown(Shutdown::Both);
            }
            None => {}
        }
    }
}

/// A request (with an id) or a notification; `null` params are left out
/// (JSON-RPC allows only an object or an array there).
fn message(id: Option<u64>, method: &str, params: Value) -> Value {
    let mut message = json!({ "jsonrpc": "2.0", "method": method });
    if let Some(id) = id {
        message["id"] = json!(id);
    }
    if !params.is_null() {
        message["params"] = params;
    }
    message
}

/// The reader thread: route every message until EOF or a broken frame,
/// then fail whatever is still waiting.
fn read_loop<R: Read>(mut input: BufReader<R>, pending: Pending, mut on_notification: OnNotification) {
    loop {
        let message = match read_frame(&mut input) {
            Ok(Some(body)) => serde_json::from_slice::<Value>(&body),
            Ok(None) => break,
            Err(e) => {
                eprintln!("rust-host: reading from the sidecar: {}", e);
                break;
            }
        };
        let mut message = match message {
            Ok(Value::Object(map)) => map,
            other => {
                eprintln!("rust-host: not a JSON-RPC message: {:?}", other);
                continue;
            }
        };
        match (message.get("id").and_then(Value::as_u64), message.remove("method")) {
            // A reply: to whoever waits for this id.
            (Some(id), None) => {
                let outcome = match message.remove("error") {
                    Some(error) => Err(Error::Rpc(rpc_error(error))),
                    None => Ok(message.remove("result").unwrap_or(Value::Null)),
                };
                let waiter = pending.lock().unwrap().as_mut().and_then(|w| w.remove(&id));
                match waiter {
                    Some(tx) => {
                        let _ = tx.send(outcome);
                    }
                    None => eprintln!("rust-host: a reply to no request: id {}", id),
                }
            }
            // A notification: no id.
            (None, Some(Value::String(method))) if !message.contains_key("id") => {
                on_notification(&method, message.remove("params").unwrap_or(Value::Null));
            }
            // An error about a message the sidecar could not read has id null.
            _ => eprintln!("rust-host: unexpected message: {}", Value::Object(message)),
        }
    }
    // Dropping the senders wakes every waiter with `Error::Closed`.
    pending.lock().unwrap().take();
}

/// An error reply's `{code, message, data?}`.
fn rpc_error(mut error: Value) -> RpcError {
    RpcError {
        code: error["code"].as_i64().unwrap_or(0),
        message: error["message"].as_str().unwrap_or("").to_string(),
        data: error.get_mut("data").map(Value::take),
    }
}

/// Read one frame's body, in either framing: a line that starts with `{` is
/// an NDJSON message; anything else starts a header block whose
/// `Content-Length` gives the size of the body after the blank line.
/// `Ok(None)` at a clean end of input.
pub fn read_frame<R: BufRead>(input: &mut R) -> io::Result<Option<Vec<u8>>> {
    let mut line = String::new();
    let mut in_headers = false;
    let mut length: Option<usize> = None;
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            if in_headers {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "end of input inside a header block"));
            }
            return Ok(None);
        }
        let text = line.trim();
        if !in_headers && text.starts_with('{') {
            return Ok(Some(text.as_bytes().to_vec()));
        }
        if text.is_empty() {
            if in_headers {
                break;
            }
            continue; // a blank line between NDJSON messages
        }
        in_headers = true;
        let (name, value) = text.split_once(':').ok_or_else(|| invalid(format!("neither JSON nor a header: {}", text)))?;
        if name.trim().eq_ignore_ascii_case("content-length") {
            length = Some(value.trim().parse().map_err(|_| invalid(format!("bad header: {}", text)))?);
        }
    }
    let length = length.ok_or_else(|| invalid("a header block without Content-Length".to_string()))?;
    let mut body = vec![0; length];
    input.read_exact(&mut body)?;
    Ok(Some(body))
}

fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_framings_from_one_stream() {
        let bytes = b"{\"a\":1}\r\n\nContent-Length: 7\r\nContent-Type: x\r\n\r\n{\"b\":2}{\"c\":3}\n";
        let mut input = &bytes[..];
        let mut bodies = Vec::new();
        while let Some(body) = read_frame(&mut input).unwrap() {
            bodies.push(String::from_utf8(body).unwrap());
        }
        assert_eq!(bodies, ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]);
    }

    #[test]
    fn a_client_is_shared_by_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Client>();
    }

    #[test]
    fn a_u64_is_exact() {
        let hash: u64 = 14695981039346656037;
        let text = json!({ "hash": hash }).to_string();
        assert_eq!(text, "{\"hash\":14695981039346656037}");
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["hash"].as_u64(), Some(hash));
    }
}

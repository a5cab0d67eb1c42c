// icws browser client: the JavaScript shell around icws-client.wasm (Embedded Swift).
//
// The Wasm module decides what to send and checks everything received: frames, request
// content and ids, the canister's certificates (BLS12-381), witnesses, sequence numbers, acks.
// This shell owns what only a browser has: the WebSocket, the clock, randomness and the
// client's Ed25519 key (WebCrypto; the private key never leaves crypto.subtle).
//
// No build step and no third-party code: import it as an ES module.
//
//   import { IcWebSocket } from "./icws.js";
//   const ws = new IcWebSocket("ws://127.0.0.1:8080", {
//     canisterId: "lxzze-o7777-77777-aaaaa-cai",
//     rootKey: "308182…",               // DER hex of the IC root key (a local replica's)
//   });
//   ws.onopen = () => ws.send(bytes);     // Candid bytes of the application message
//   ws.onmessage = (event) => console.log(event.data);   // Uint8Array, verified
//   ws.onclose = (event) => console.log(event.code, event.reason);
//   ws.onerror = (event) => console.error(event.error);
//
// The ABI is documented in docs/BROWSER-CLIENT.md.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Event kinds returned by icws_receive (first output byte). */
const Event = Object.freeze({ none: 0, opened: 1, message: 2, keepAliveDue: 3, closedByApplication: 4 });
/** Call kinds for icws_prepare_call. */
const Call = Object.freeze({ open: 0, message: 1, keepAlive: 2 });

const compiledModules = new Map();

/** Compiles the Wasm module once per URL. */
export function loadModule(url = new URL("./icws-client.wasm", import.meta.url)) {
  const key = String(url);
  if (!compiledModules.has(key)) {
    compiledModules.set(
      key,
      fetch(key).then((response) => {
        if (!response.ok) throw new Error(`cannot load ${key}: HTTP ${response.status}`);
        return WebAssembly.compileStreaming(response);
      }),
    );
  }
  return compiledModules.get(key);
}

/** Nanoseconds since 1970, as the module's i64 parameters want them. */
export function nowNanoseconds() {
  return BigInt(Date.now()) * 1_000_000n;
}

export function hexToBytes(hex) {
  const clean = hex.trim();
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error("not a hex string");
  const bytes = new Uint8Array(clean.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(clean.substr(2 * i, 2), 16);
  return bytes;
}

/**
 * One session's Wasm instance and its byte exchange. Every method maps to one export; a
 * negative result throws an Error carrying the module's own message.
 */
export class WasmSession {
  static async create(moduleURL) {
    const instance = await WebAssembly.instantiate(await loadModule(moduleURL), {});
    return new WasmSession(instance.exports);
  }

  constructor(exports) {
    this.exports = exports;
  }

  #write(bytes) {
    const pointer = this.exports.icws_input(bytes.length);
    new Uint8Array(this.exports.memory.buffer, pointer, bytes.length).set(bytes);
    return bytes.length;
  }

  #result(length) {
    const pointer = this.exports.icws_output();
    if (length < 0) {
      // A failure: the module left its reason, -1 - length bytes of UTF-8.
      throw new Error(decoder.decode(new Uint8Array(this.exports.memory.buffer, pointer, -1 - length)));
    }
    return new Uint8Array(this.exports.memory.buffer, pointer, length).slice();
  }

  configure({ canisterId, rootKeyDER, publicKeyDER, clientNonce, maxCertificateAgeSeconds = 300, ackTimeoutMilliseconds }) {
    const canister = encoder.encode(canisterId);
    const input = new Uint8Array(canister.length + rootKeyDER.length + publicKeyDER.length);
    input.set(canister, 0);
    input.set(rootKeyDER, canister.length);
    input.set(publicKeyDER, canister.length + rootKeyDER.length);
    this.#write(input);
    this.#result(
      this.exports.icws_configure(
        canister.length, rootKeyDER.length, publicKeyDER.length, clientNonce, maxCertificateAgeSeconds,
        BigInt(ackTimeoutMilliseconds),
      ),
    );
  }

  handshake(frame, now = nowNanoseconds()) {
    this.#result(this.exports.icws_handshake(this.#write(frame), now));
  }

  /** Returns { event, content }. */
  receive(frame, now = nowNanoseconds()) {
    const output = this.#result(this.exports.icws_receive(this.#write(frame), now));
    return { event: output[0], content: output.subarray(1) };
  }

  /** Returns the bytes to sign. */
  prepareCall(kind, application = new Uint8Array(0), now = nowNanoseconds()) {
    const input = new Uint8Array(16 + application.length);
    crypto.getRandomValues(input.subarray(0, 16));
    input.set(application, 16);
    return this.#result(this.exports.icws_prepare_call(kind, this.#write(input), now));
  }

  /** Returns the frame to send. */
  finishCall(signature) {
    return this.#result(this.exports.icws_finish_call(this.#write(signature)));
  }

  tick(now = nowNanoseconds()) {
    this.#result(this.exports.icws_tick(now));
  }

  close() {
    this.exports.icws_close();
  }
}

/**
 * A WebSocket to a canister through an icws (or reference) gateway, with every message from the
 * canister verified against the IC root key. API close to ic-websocket-js' IcWebSocket.
 */
export class IcWebSocket {
  /**
   * @param {string} gatewayUrl  ws:// or wss:// URL of the gateway
   * @param {object} options
   *   canisterId (text), rootKey (DER hex or Uint8Array),
   *   ackTimeoutMs (the canister's ack interval + allowance; default 330 000),
   *   maxCertificateAgeSeconds (default 300), wasmUrl (default: beside this file)
   */
  constructor(gatewayUrl, options) {
    this.gatewayUrl = gatewayUrl;
    this.canisterId = options.canisterId;
    this.readyState = 0; // CONNECTING
    this.onopen = null;
    this.onmessage = null;
    this.onclose = null;
    this.onerror = null;
    // receiveMillis: how long the module took for each of the last 100 frames (certificate,
    // witness and sequence checks; a frame with a certificate not seen before includes a BLS
    // signature check).
    this.statistics = { received: 0, sent: 0, keepAlives: 0, certificateErrors: 0, receiveMillis: [] };
    this.#chain = Promise.resolve();
    this.#start(options).catch((error) => this.#fail(error));
  }

  #session = null;
  #socket = null;
  #keys = null;
  #chain;
  #timer = null;
  #handshakeDone = false;
  #closed = false;

  /** The client principal's DER public key (after open). */
  publicKeyDER = null;

  async #start(options) {
    if (!options || !options.canisterId) throw new Error("IcWebSocket needs options.canisterId");
    if (!options.rootKey) throw new Error("IcWebSocket needs options.rootKey (DER hex of the IC root key)");
    const rootKeyDER = typeof options.rootKey === "string" ? hexToBytes(options.rootKey) : options.rootKey;
    if (!crypto.subtle) throw new Error("WebCrypto is unavailable: serve the page over https or from localhost");
    this.#keys = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
    this.publicKeyDER = new Uint8Array(await crypto.subtle.exportKey("spki", this.#keys.publicKey));
    this.#session = await WasmSession.create(options.wasmUrl);
    const nonce = new BigUint64Array(1);
    crypto.getRandomValues(nonce);
    this.#session.configure({
      canisterId: options.canisterId,
      rootKeyDER,
      publicKeyDER: this.publicKeyDER,
      clientNonce: nonce[0],
      maxCertificateAgeSeconds: options.maxCertificateAgeSeconds ?? 300,
      ackTimeoutMilliseconds: options.ackTimeoutMs ?? 330_000,
    });
    const socket = new WebSocket(this.gatewayUrl);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => this.#onFrame(new Uint8Array(event.data));
    socket.onclose = (event) => this.#onSocketClosed(event.code, event.reason);
    socket.onerror = () => this.#fail(new Error(`WebSocket to ${this.gatewayUrl} failed`));
    this.#socket = socket;
    this.#timer = setInterval(() => {
      try {
        this.#session.tick();
      } catch (error) {
        this.#fail(error, 4000);
      }
    }, 1000);
  }

  /** Sends an application message (its Candid bytes). Resolves once it is on the wire. */
  send(bytes) {
    if (this.readyState !== 1) throw new Error("Connection is not established yet");
    const copy = new Uint8Array(bytes);
    return this.#enqueue(Call.message, copy).then(() => {
      this.statistics.sent += 1;
    });
  }

  close(code = 1000, reason = "") {
    if (this.#closed) return;
    this.readyState = 2;
    this.#socket?.close(code, reason);
  }

  // Signing is asynchronous and a call must be signed before the next is prepared, so every
  // outgoing call goes through one promise chain, in order.
  #enqueue(kind, application) {
    const step = this.#chain.then(() => this.#signAndSend(kind, application));
    this.#chain = step.catch(() => {});
    return step;
  }

  async #signAndSend(kind, application) {
    if (this.#closed) throw new Error("the connection is closed");
    const payload = this.#session.prepareCall(kind, application);
    const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, this.#keys.privateKey, payload));
    const frame = this.#session.finishCall(signature);
    this.#socket.send(frame);
  }

  #onFrame(frame) {
    if (this.#closed) return;
    try {
      if (!this.#handshakeDone) {
        this.#session.handshake(frame);
        this.#handshakeDone = true;
        this.#enqueue(Call.open).catch((error) => this.#fail(error));
        return;
      }
      const started = performance.now();
      const { event, content } = this.#session.receive(frame);
      const timings = this.statistics.receiveMillis;
      timings.push(performance.now() - started);
      if (timings.length > 100) timings.shift();
      switch (event) {
        case Event.opened:
          this.readyState = 1;
          this.onopen?.({ type: "open" });
          break;
        case Event.message:
          this.statistics.received += 1;
          this.onmessage?.({ type: "message", data: content });
          break;
        case Event.keepAliveDue:
          this.statistics.keepAlives += 1;
          this.#enqueue(Call.keepAlive).catch((error) => this.#fail(error));
          break;
        case Event.closedByApplication:
          this.close(1000, "closed by the canister");
          break;
      }
    } catch (error) {
      if (String(error.message).includes("Certificate validation failed")) this.statistics.certificateErrors += 1;
      this.#fail(error, 4000);
    }
  }

  #fail(error, code = 4000) {
    if (this.#closed) return;
    this.onerror?.({ type: "error", error });
    if (this.#socket && this.#socket.readyState <= 1) {
      this.#socket.close(code, String(error.message).slice(0, 120));
    } else {
      this.#onSocketClosed(1006, String(error.message));
    }
  }

  #onSocketClosed(code, reason) {
    if (this.#closed) return;
    this.#closed = true;
    this.readyState = 3;
    clearInterval(this.#timer);
    this.#session?.close();
    this.onclose?.({ type: "close", code, reason });
  }
}

// ---- Candid for text records -----------------------------------------------------------
// Enough Candid for applications whose messages are records of text fields, such as the chat
// canister's `record { from : text; text : text }`. Anything else: encode with your own Candid
// library and pass the bytes to send().

/** Candid's field id: the name's hash (idl_hash). */
export function fieldId(name) {
  let hash = 0;
  for (const byte of encoder.encode(name)) hash = (Math.imul(hash, 223) + byte) >>> 0;
  return hash;
}

function leb128(value) {
  const out = [];
  let v = BigInt(value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}

/** `record { name : text; … }` with these text values, as Candid bytes. */
export function encodeTextRecord(record) {
  const fields = Object.keys(record)
    .map((name) => ({ id: fieldId(name), value: encoder.encode(String(record[name])) }))
    .sort((a, b) => a.id - b.id);
  const bytes = [0x44, 0x49, 0x44, 0x4c, 1, 0x6c, ...leb128(fields.length)];
  for (const field of fields) bytes.push(...leb128(field.id), 0x71);
  bytes.push(1, 0);
  for (const field of fields) bytes.push(...leb128(field.value.length), ...field.value);
  return new Uint8Array(bytes);
}

/** Decodes a Candid message whose single value is a record of text fields; `names` maps ids back. */
export function decodeTextRecord(bytes, names) {
  let offset = 0;
  const fail = (why) => {
    throw new Error(`not a record of text fields: ${why}`);
  };
  const readLEB = () => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (offset >= bytes.length) fail("truncated");
      const byte = bytes[offset++];
      result |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if ((byte & 0x80) === 0) return result;
    }
  };
  const readSLEB = () => {
    let result = 0n;
    let shift = 0n;
    let byte;
    do {
      if (offset >= bytes.length) fail("truncated");
      byte = bytes[offset++];
      result |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
    } while (byte & 0x80);
    if (byte & 0x40) result -= 1n << shift;
    return result;
  };
  if (decoder.decode(bytes.subarray(0, 4)) !== "DIDL") fail("no DIDL magic");
  offset = 4;
  const typeCount = Number(readLEB());
  const types = [];
  for (let t = 0; t < typeCount; t++) {
    if (readSLEB() !== -20n) fail("only record types are supported");
    const count = Number(readLEB());
    const fields = [];
    for (let f = 0; f < count; f++) {
      const id = Number(readLEB());
      if (readSLEB() !== -15n) fail("only text fields are supported");
      fields.push(id);
    }
    types.push(fields);
  }
  if (readLEB() !== 1n) fail("expected one value");
  const index = Number(readSLEB());
  if (index < 0 || index >= types.length) fail("the value is not a record");
  const idsToNames = new Map(names.map((name) => [fieldId(name), name]));
  const record = {};
  for (const id of types[index]) {
    const length = Number(readLEB());
    if (offset + length > bytes.length) fail("truncated text");
    record[idsToNames.get(id) ?? `_${id}_`] = decoder.decode(bytes.subarray(offset, offset + length));
    offset += length;
  }
  return record;
}

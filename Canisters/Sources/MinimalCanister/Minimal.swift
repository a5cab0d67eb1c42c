import ICCanister
import ICCore

// The smallest useful canister built with the kit: a counter, an echo, a timer tick and a
// stable-memory round trip. It exercises every part of ICCanister for the replica tests.

nonisolated(unsafe) var counter: UInt64 = 0
nonisolated(unsafe) var ticks: UInt64 = 0

@_expose(wasm, "canister_init") @_cdecl("canister_init")
func canisterInit() {
    // A tick every second, to check the global-timer multiplexing.
    Timers.scheduleInterval(nanoseconds: 1_000_000_000) { ticks += 1 }
}

@_expose(wasm, "canister_update inc") @_cdecl("canister_update_inc")
func inc() {
    Canister.method { () -> UInt64 in
        counter += 1; return counter
    }
}

@_expose(wasm, "canister_query get") @_cdecl("canister_query_get")
func get() { Canister.query(CandidNull?.self) { _ in counter } }

@_expose(wasm, "canister_query ticks") @_cdecl("canister_query_ticks")
func getTicks() { Canister.query(CandidNull?.self) { _ in ticks } }

@_expose(wasm, "canister_update echo") @_cdecl("canister_update_echo")
func echo() { Canister.update(String.self) { text in "\(Message.caller()): \(text)" } }

@_expose(wasm, "canister_update trap") @_cdecl("canister_update_trap")
func trapMethod() { Canister.update(String.self) { (text: String) -> String in trap(UTF8Text(text)) } }

@_expose(wasm, "canister_update stable_roundtrip") @_cdecl("canister_update_stable_roundtrip")
func stableRoundtrip() {
    Canister.update(CandidBlob.self) { blob in
        StableMemory.save(blob.bytes)
        return CandidBlob(StableMemory.load() ?? [])
    }
}

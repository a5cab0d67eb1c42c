// The System API imports (ic-interface-essentials §10), wasm32 signatures.
//
// Every import needs BOTH attributes: without `@_extern(c)` Swift's calling convention adds
// two hidden i32 parameters (swiftself, swifterror) and the module's signature is silently
// wrong; the IC would reject it. scripts/build-canisters.sh checks every signature.

@_extern(wasm, module: "ic0", name: "msg_arg_data_size") @_extern(c)
func ic0_msg_arg_data_size() -> Int32
@_extern(wasm, module: "ic0", name: "msg_arg_data_copy") @_extern(c)
func ic0_msg_arg_data_copy(_ dst: UnsafeMutableRawPointer?, _ offset: Int32, _ size: Int32)
@_extern(wasm, module: "ic0", name: "msg_caller_size") @_extern(c)
func ic0_msg_caller_size() -> Int32
@_extern(wasm, module: "ic0", name: "msg_caller_copy") @_extern(c)
func ic0_msg_caller_copy(_ dst: UnsafeMutableRawPointer?, _ offset: Int32, _ size: Int32)
@_extern(wasm, module: "ic0", name: "msg_reply_data_append") @_extern(c)
func ic0_msg_reply_data_append(_ src: UnsafeRawPointer?, _ size: Int32)
@_extern(wasm, module: "ic0", name: "msg_reply") @_extern(c)
func ic0_msg_reply()
@_extern(wasm, module: "ic0", name: "msg_reject") @_extern(c)
func ic0_msg_reject(_ src: UnsafeRawPointer?, _ size: Int32)
@_extern(wasm, module: "ic0", name: "canister_self_size") @_extern(c)
func ic0_canister_self_size() -> Int32
@_extern(wasm, module: "ic0", name: "canister_self_copy") @_extern(c)
func ic0_canister_self_copy(_ dst: UnsafeMutableRawPointer?, _ offset: Int32, _ size: Int32)
@_extern(wasm, module: "ic0", name: "trap") @_extern(c)
func ic0_trap(_ src: UnsafeRawPointer?, _ size: Int32)
@_extern(wasm, module: "ic0", name: "debug_print") @_extern(c)
func ic0_debug_print(_ src: UnsafeRawPointer?, _ size: Int32)
@_extern(wasm, module: "ic0", name: "time") @_extern(c)
func ic0_time() -> Int64
@_extern(wasm, module: "ic0", name: "global_timer_set") @_extern(c)
func ic0_global_timer_set(_ timestamp: Int64) -> Int64
@_extern(wasm, module: "ic0", name: "certified_data_set") @_extern(c)
func ic0_certified_data_set(_ src: UnsafeRawPointer?, _ size: Int32)
@_extern(wasm, module: "ic0", name: "data_certificate_present") @_extern(c)
func ic0_data_certificate_present() -> Int32
@_extern(wasm, module: "ic0", name: "data_certificate_size") @_extern(c)
func ic0_data_certificate_size() -> Int32
@_extern(wasm, module: "ic0", name: "data_certificate_copy") @_extern(c)
func ic0_data_certificate_copy(_ dst: UnsafeMutableRawPointer?, _ offset: Int32, _ size: Int32)
@_extern(wasm, module: "ic0", name: "stable64_size") @_extern(c)
func ic0_stable64_size() -> Int64
@_extern(wasm, module: "ic0", name: "stable64_grow") @_extern(c)
func ic0_stable64_grow(_ newPages: Int64) -> Int64
@_extern(wasm, module: "ic0", name: "stable64_read") @_extern(c)
func ic0_stable64_read(_ dst: Int64, _ offset: Int64, _ size: Int64)
@_extern(wasm, module: "ic0", name: "stable64_write") @_extern(c)
func ic0_stable64_write(_ offset: Int64, _ src: Int64, _ size: Int64)
@_extern(wasm, module: "ic0", name: "is_controller") @_extern(c)
func ic0_is_controller(_ src: UnsafeRawPointer?, _ size: Int32) -> Int32
@_extern(wasm, module: "ic0", name: "in_replicated_execution") @_extern(c)
func ic0_in_replicated_execution() -> Int32
@_extern(wasm, module: "ic0", name: "performance_counter") @_extern(c)
func ic0_performance_counter(_ counterType: Int32) -> Int64

// Freestanding C support for Embedded Swift canisters on wasm32 (no libc on the IC).
// No #includes: this header is also read by the Swift compiler's Clang importer.
#pragma once

/// Flushes the line buffer that putchar() feeds to ic0.debug_print.
void icws_debug_flush(void);
/// Current size of linear memory in bytes (for tests and diagnostics).
__SIZE_TYPE__ icws_memory_size(void);

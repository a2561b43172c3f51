//! Any bytes given to the safetensors reader and loader: a value or an
//! error, never a panic, and a failed load changes nothing.
#![no_main]

#[path = "../../tests/fuzz_harness/mod.rs"]
mod fuzz_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_harness::loader(data));

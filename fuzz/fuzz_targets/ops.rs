//! Random programs of ops on a tape: no panic, gradients of the right shape,
//! the same bits twice, anomaly mode exact, and gradcheck where it applies.
#![no_main]

#[path = "../../tests/fuzz_harness/mod.rs"]
mod fuzz_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_harness::ops(data));

//! The gate must never panic, and every position it reports must be a valid slice of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for (_, range) in alongside_core::deid::scan(text) {
            assert!(range.start <= range.end && range.end <= text.len());
            assert!(text.get(range).is_some());
        }
    }
});

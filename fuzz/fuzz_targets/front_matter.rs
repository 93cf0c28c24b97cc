#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| esep_server::fuzzing::front_matter(data));

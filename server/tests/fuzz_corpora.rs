//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/`) through the same targets
//! that `cargo xtask fuzz` runs under libFuzzer: every input the fuzzer kept, and every
//! crash it ever found (kept there once fixed), must pass again (issue 7, bad input at scale).

use std::path::Path;

#[test]
fn every_fuzz_corpus_replays_without_a_failure() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let mut total = 0;
    for (name, target) in esep_server::fuzzing::TARGETS {
        let dir = root.join(name);
        let mut inputs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("the corpus {}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        inputs.sort();
        assert!(
            inputs.len() >= 2,
            "{name}: a corpus of {} inputs; run `cargo xtask fuzz {name}`",
            inputs.len()
        );
        for input in &inputs {
            let data = std::fs::read(input).unwrap();
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(
                outcome.is_ok(),
                "{name} fails on {} (rerun it: cargo xtask fuzz {name} --replay)",
                input.display(),
            );
        }
        eprintln!("{name}: {} inputs", inputs.len());
        total += inputs.len();
    }
    assert!(total > 0);
}

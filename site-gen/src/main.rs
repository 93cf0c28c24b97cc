//! `esep-site build --content content --kpi FILE --out DIR`

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: esep-site build --content DIR [--kpi FILE] --out DIR";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("build") {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(PathBuf::from)
    };
    let (Some(content), Some(out)) = (opt("--content"), opt("--out")) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let kpi = opt("--kpi");
    let started = std::time::Instant::now();
    match esep_site::build(&esep_site::BuildOptions {
        content: &content,
        kpi: kpi.as_deref(),
        out: &out,
    }) {
        Ok(r) => {
            println!(
                "Built {} pages ({} files) into {} in {:.0} ms.",
                r.pages,
                r.files,
                out.display(),
                started.elapsed().as_secs_f64() * 1000.0
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprint!("{e}");
            eprintln!("The site was not built: {} errors.", e.0.len());
            ExitCode::FAILURE
        }
    }
}

//! Thin entry point: parse the command line, set up logging, dispatch.

/// The ingest path allocates many small values (parsed JSON); mimalloc handles that far
/// better than the system allocator (see examples/pipeline.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = crm_tracker::cli::parse();
    match crm_tracker::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

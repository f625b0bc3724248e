//! Thin entry point: all behaviour lives in the library so tests and benches share it.

fn main() -> std::process::ExitCode {
    mps_cos_backup::cli::main(std::env::args_os().skip(1).collect())
}

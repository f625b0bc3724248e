//! Thin entry point: all behaviour lives in the library so tests and benches share it.

// Only the static musl build (the deploy package) swaps the allocator; see Cargo.toml.
#[cfg(target_env = "musl")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    mps_cos_backup::cli::main(std::env::args_os().skip(1).collect())
}

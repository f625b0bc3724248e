//! Hot-path micro benchmarks (filled in per module).
fn main() {}

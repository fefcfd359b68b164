//! httplab (in progress)
fn main() {}

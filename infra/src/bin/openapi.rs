//! Prints the OpenAPI document derived from the code (`infra::openapi`):
//! `cargo run -p infra --bin openapi > openapi.yaml`.
fn main() {
    print!("{}", infra::openapi::yaml());
}

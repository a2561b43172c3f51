//! The dynamical-system view of residual stacks: `N` blocks `x + F(x)/N`
//! with one shared tanh MLP `F` are `N` Euler steps of `dx/dt = F(x)`; the
//! output converges as `N` grows, at first order.
//!
//! `cargo run --release --example 10_ode_view [-- --quick]`

mod common;

fn main() -> std::io::Result<()> {
    let quick = common::quick_flag();
    let outcome = resgrad::experiments::ode_view::run(quick);
    for path in common::report(&outcome, quick)? {
        println!("wrote {}", common::shown(&path));
    }
    if !outcome.all_hold() {
        std::process::exit(1);
    }
    Ok(())
}

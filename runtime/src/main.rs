//! The `switchboard` command line.

fn main() {
    println!("switchboard");
}

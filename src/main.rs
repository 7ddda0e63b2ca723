fn main() {
    std::process::exit(tsunagu::cli::run());
}

//! The `gridtwin` binary: signals, then the command line of [`gridtwin_cli`].

use std::process::ExitCode;

use clap::Parser;
use gridtwin_cli::Cli;

fn main() -> ExitCode {
    // A reader that stops early (`| head`) closes the pipe: end quietly, as Unix tools
    // do, instead of panicking in println!.
    #[cfg(unix)]
    // SAFETY: called first thing, before any thread exists; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // An interrupted run leaves no half-written `.NAME.tmp-PID` files behind.
    let _ = ctrlc::set_handler(|| {
        gridtwin_io::atomic::remove_staged();
        std::process::exit(130);
    });
    let cli = Cli::parse();
    match gridtwin_cli::execute(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}

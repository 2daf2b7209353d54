//! `orchestrator-pact generate`: the man page and the shell completions,
//! both made from the clap definitions in [`super::Cli`], so they cannot
//! drift from the flags the binary accepts. The release archives carry
//! them (`ci/release-build.sh`).

use std::io::Write;

use anyhow::Context;
use clap::{Args, CommandFactory, ValueEnum};
use clap_complete::Shell;

use super::Cli;
use crate::exit::EXIT_OK;

/// `orchestrator-pact generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// What to print on stdout: `man` (a roff man page for section 1:
    /// `orchestrator-pact generate man | man -l -`), or the completions of
    /// a shell (`complete-bash`, `complete-zsh`, `complete-fish`,
    /// `complete-powershell`), to be sourced or put where the shell loads
    /// completions from.
    #[arg(value_enum, value_name = "WHAT")]
    pub what: Generated,
}

/// The things `generate` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Generated {
    /// A roff man page covering every command and flag.
    Man,
    /// Completions for bash (`source <(orchestrator-pact generate complete-bash)`).
    CompleteBash,
    /// Completions for zsh (a `_orchestrator-pact` file on `$fpath`).
    CompleteZsh,
    /// Completions for fish (`~/.config/fish/completions/`).
    CompleteFish,
    /// Completions for PowerShell (dot-source the script in `$PROFILE`).
    CompletePowershell,
}

/// Prints what `args` asks for on stdout.
pub(crate) fn run(args: &GenerateArgs) -> anyhow::Result<u8> {
    let mut out = std::io::stdout().lock();
    match write(args.what, &mut out).and_then(|()| out.flush()) {
        // `generate man | head`: the reader had enough.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(EXIT_OK),
        result => result
            .context("could not write to stdout")
            .map(|()| EXIT_OK),
    }
}

/// Writes `what` into `out`.
fn write(what: Generated, out: &mut dyn Write) -> std::io::Result<()> {
    let mut command = Cli::command();
    let name = command.get_name().to_owned();
    let shell = match what {
        Generated::Man => return man_page(command, out),
        Generated::CompleteBash => Shell::Bash,
        Generated::CompleteZsh => Shell::Zsh,
        Generated::CompleteFish => Shell::Fish,
        Generated::CompletePowershell => Shell::PowerShell,
    };
    if shell != Shell::Bash {
        clap_complete::generate(shell, &mut command, name, out);
        return Ok(());
    }
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, &name, &mut script);
    out.write_all(bash_arms_fixed(&String::from_utf8_lossy(&script), &name).as_bytes())
}

/// clap_complete 4.6 spells the states of a command whose name has a hyphen
/// two ways in its bash script (clap-rs/clap#6421): the loop that reads the
/// words arrives at `orchestrator__pact__subcmd__verify`, while the arms that
/// offer a command's flags are labelled `orchestrator__subcmd__pact__subcmd__verify`,
/// so no command's flags were ever offered. The arms get the loop's spelling.
fn bash_arms_fixed(script: &str, name: &str) -> String {
    script.replace(
        &format!("{}__subcmd__", name.replace('-', "__subcmd__")),
        &format!("{}__subcmd__", name.replace('-', "__")),
    )
}

/// One page for the whole command, as `rg`'s and `git`'s top pages are:
/// clap_mangen's page of the top command (synopsis, global options, the
/// list of commands), then a section per command with its synopsis,
/// description and options. clap_mangen renders a command's parts as `.SH`
/// sections; inside a command's section they become `.SS` subsections.
fn man_page(mut command: clap::Command, out: &mut dyn Write) -> std::io::Result<()> {
    command.build();
    let mut top = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut top)?;
    // The list of commands points at pages of their own
    // (`orchestrator-pact-verify(1)`); here they are sections of this page.
    let prefix = format!("{}\\-", command.get_name().replace('-', "\\-"));
    for line in String::from_utf8_lossy(&top).lines() {
        match line
            .strip_prefix(&prefix)
            .and_then(|l| l.strip_suffix("(1)"))
        {
            Some(sub) => writeln!(out, "\\fB{sub}\\fR")?,
            None => writeln!(out, "{line}")?,
        }
    }
    // clap's own `help` command has nothing a page would add.
    let commands = command
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help");
    for sub in commands {
        let full_name = sub.get_bin_name().unwrap_or_else(|| sub.get_name());
        let heading = full_name.to_uppercase().replace('-', "\\-");
        writeln!(out, ".SH \"{heading}\"")?;
        let page = clap_mangen::Man::new(sub.clone());
        let mut parts = Vec::new();
        page.render_synopsis_section(&mut parts)?;
        page.render_description_section(&mut parts)?;
        page.render_options_section(&mut parts)?;
        let parts = String::from_utf8_lossy(&parts);
        for line in parts.lines() {
            match line.strip_prefix(".SH ") {
                Some(heading) => writeln!(out, ".SS {heading}")?,
                None => writeln!(out, "{line}")?,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(what: Generated) -> String {
        let mut out = Vec::new();
        write(what, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_man_page_has_a_section_with_the_options_of_every_command() {
        let page = text(Generated::Man);
        let commands = Cli::command();
        let commands = commands.get_subcommands().filter(|s| !s.is_hide_set());
        for sub in commands.filter(|s| s.get_name() != "help") {
            let name = sub.get_name().to_uppercase().replace('-', "\\-");
            assert!(
                page.contains(&format!(".SH \"ORCHESTRATOR\\-PACT {name}\"")),
                "no section for `{}`",
                sub.get_name()
            );
        }
        assert!(
            page.contains("\\-\\-state\\-change\\-url"),
            "verify's flags are missing"
        );
    }

    #[test]
    fn every_shell_gets_completions_that_name_the_commands() {
        for what in [
            Generated::CompleteBash,
            Generated::CompleteZsh,
            Generated::CompleteFish,
            Generated::CompletePowershell,
        ] {
            let script = text(what);
            for command in ["verify", "check-spec", "record-deployment", "generate"] {
                assert!(script.contains(command), "{what:?} lacks {command}");
            }
        }
    }
}

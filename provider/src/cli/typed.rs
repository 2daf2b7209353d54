//! The command line as typed, read by the command's own definition: which
//! value belongs to which flag. What may be secret is known by its place,
//! not guessed from its contents: a secret flag's value, an argument no
//! flag takes, a URL's password, query and fragment. Subcommands, flags
//! and other values are the user's words, shown as typed.

use std::ffi::OsString;
use std::iter::Peekable;

use clap::{Arg, CommandFactory};

use super::Cli;
use crate::redact::Shapes;

/// What a typed value is, for what may be shown of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A secret flag's value, an unknown flag's, or an argument no flag
    /// takes (a secret whose flag was left out, or a value in the wrong
    /// place): masked whole where an error quotes it.
    Secret,
    /// A URL flag's value, or a value that reads as a URL: its password,
    /// query values and fragment masked.
    Url,
    /// Anything else: shown as typed.
    Plain,
}

/// One value typed on the command line, and what it is.
#[derive(Debug, PartialEq, Eq)]
struct Typed {
    value: String,
    kind: Kind,
}

fn value_names(arg: &Arg) -> impl Iterator<Item = &str> {
    arg.get_value_names()
        .into_iter()
        .flatten()
        .map(|name| name.as_str())
}

/// A flag whose value is secret: its value name says a token, a secret or
/// a password, or its variable's value is kept out of the help.
fn is_secret(arg: &Arg) -> bool {
    arg.is_hide_env_values_set()
        || value_names(arg).any(|n| {
            ["TOKEN", "SECRET", "PASSWORD"]
                .iter()
                .any(|w| n.contains(w))
        })
}

fn is_url(arg: &Arg) -> bool {
    value_names(arg).any(|n| n.contains("URL"))
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_num_args().is_some_and(|n| n.takes_values())
}

/// The whole command, built: global flags copied into every subcommand,
/// and the number of values of each flag settled.
fn built() -> clap::Command {
    let mut command = Cli::command();
    command.build();
    command
}

/// The flag `name` (a long name without its dashes) of `command`.
fn long<'c>(command: &'c clap::Command, name: &str) -> Option<&'c Arg> {
    command.get_arguments().find(|a| {
        a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|all| all.contains(&name))
    })
}

fn short(command: &clap::Command, letter: char) -> Option<&Arg> {
    command.get_arguments().find(|a| {
        a.get_short() == Some(letter)
            || a.get_all_short_aliases()
                .is_some_and(|all| all.contains(&letter))
    })
}

/// The flag a flag argument (`--name[=value]`, `-abc`, `-xVALUE`) names,
/// if `command` has it, and the value typed in the same argument.
fn flag<'c>(command: &'c clap::Command, arg: &str) -> (Option<&'c Arg>, Option<String>) {
    if let Some(rest) = arg.strip_prefix("--") {
        let (name, value) = match rest.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (rest, None),
        };
        return (long(command, name), value);
    }
    // A cluster of short flags: the first that takes a value takes the
    // rest of the argument, if any.
    let letters = &arg[1..];
    for (at, letter) in letters.char_indices() {
        let rest = &letters[at + letter.len_utf8()..];
        let attached =
            (!rest.is_empty()).then(|| rest.strip_prefix('=').unwrap_or(rest).to_owned());
        match short(command, letter) {
            Some(found) if takes_value(found) => return (Some(found), attached),
            Some(_) => {}
            None => return (None, attached),
        }
    }
    (None, None)
}

/// The value a flag that takes one reads from the next argument. A
/// secret's is taken whatever it looks like (a token may start with `-`);
/// another flag's is not taken when it looks like a flag, as clap does.
fn next_value(args: &mut Peekable<impl Iterator<Item = String>>, secret: bool) -> Option<String> {
    match args.peek() {
        Some(next) if secret || !next.starts_with('-') || next == "-" => args.next(),
        _ => None,
    }
}

/// Every value of `args` (the program name first) and what it is.
fn typed(args: &[OsString]) -> Vec<Typed> {
    let cli = built();
    let mut level = &cli;
    let (mut chosen, mut in_help, mut only_positional) = (false, false, false);
    let mut found = Vec::new();
    let mut args = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .peekable();
    while let Some(arg) = args.next() {
        if only_positional || arg == "-" || !arg.starts_with('-') {
            let kind = if !chosen {
                // The subcommand's place: a name, or a misspelt one.
                chosen = true;
                if let Some(sub) = cli.find_subcommand(&arg) {
                    level = sub;
                    in_help = sub.get_name() == "help";
                }
                Kind::Plain
            } else if in_help {
                // `help verify`: subcommand names.
                Kind::Plain
            } else {
                Kind::Secret
            };
            found.push(Typed { value: arg, kind });
            continue;
        }
        if arg == "--" {
            only_positional = true;
            continue;
        }
        let (value, kind) = match flag(level, &arg) {
            (Some(known), attached) if takes_value(known) => {
                let secret = is_secret(known);
                let kind = match () {
                    () if secret => Kind::Secret,
                    () if is_url(known) => Kind::Url,
                    () => Kind::Plain,
                };
                (attached.or_else(|| next_value(&mut args, secret)), kind)
            }
            (Some(_), _) => (None, Kind::Plain),
            (None, attached) => (attached, Kind::Secret),
        };
        if let Some(value) = value {
            let kind = match kind {
                Kind::Plain if value.contains("://") => Kind::Url,
                kind => kind,
            };
            found.push(Typed { value, kind });
        }
    }
    found
}

/// The text of an argument error (clap's), with what may be secret on the
/// command line masked by its place: a secret flag's value and an argument
/// no flag takes where the error quotes them, whatever their length, and a
/// URL's password, query values and fragment. Subcommands, flags and other
/// values (a misspelt command, an organization id, a policy rule) are shown
/// as typed, and the usage line as it is.
pub fn argument_error(error: &clap::Error, args: &[OsString]) -> String {
    let mut shapes = Shapes::default();
    for typed in typed(args) {
        match typed.kind {
            Kind::Secret => shapes.add_quoted(&typed.value),
            Kind::Url => shapes.add_quoted_url(&typed.value),
            Kind::Plain => {}
        }
    }
    let text = error.render().to_string();
    match text.split_once("\nUsage:") {
        Some((head, usage)) => format!("{}\nUsage:{usage}", shapes.apply(head)),
        None => shapes.apply(&text).into_owned(),
    }
}

/// Every URL given to this run: the values of the flags that take one (and
/// any value that reads as a URL) in `args` (the program name first), and
/// the variables of those flags, read through `env`. For the run's
/// redactor, which masks their secret parts wherever they are shown
/// ([`crate::redact::Redactor::add_url`]).
pub fn given_urls(args: &[OsString], env: impl Fn(&str) -> Option<String>) -> Vec<String> {
    let mut urls: Vec<String> = typed(args)
        .into_iter()
        .filter(|t| t.kind == Kind::Url)
        .map(|t| t.value)
        .collect();
    let cli = built();
    let commands = std::iter::once(&cli).chain(cli.get_subcommands());
    for arg in commands.flat_map(clap::Command::get_arguments) {
        if is_url(arg)
            && !is_secret(arg)
            && let Some(value) = arg.get_env().and_then(|v| env(&v.to_string_lossy()))
        {
            urls.push(value);
        }
    }
    urls.sort();
    urls.dedup();
    urls
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &[&str]) -> Vec<OsString> {
        std::iter::once("orchestrator-pact")
            .chain(line.iter().copied())
            .map(OsString::from)
            .collect()
    }

    fn kinds(line: &[&str]) -> Vec<(String, Kind)> {
        typed(&args(line))
            .into_iter()
            .map(|t| (t.value, t.kind))
            .collect()
    }

    fn secret_flags(command: &clap::Command) -> Vec<String> {
        let mut flags: Vec<String> = command
            .get_arguments()
            .filter(|a| is_secret(a))
            .filter_map(|a| a.get_long().map(str::to_owned))
            .collect();
        flags.sort();
        flags
    }

    #[test]
    fn the_secret_flags_are_the_tokens_secrets_and_passwords() {
        let cli = built();
        let of = |name: &str| secret_flags(cli.find_subcommand(name).unwrap());
        let tenant = ["client-secret", "test-user-password", "token"];
        let broker = ["broker-password", "broker-token"];
        let mut verify: Vec<&str> = tenant.iter().chain(&broker).copied().collect();
        verify.sort_unstable();
        assert_eq!(of("verify"), verify);
        assert_eq!(of("cleanup"), tenant);
        assert_eq!(of("serve"), ["client", "token", "user"]);
        for name in ["publish", "can-i-deploy", "record-deployment"] {
            assert_eq!(of(name), broker, "{name}");
        }
        assert!(of("check-spec").is_empty());
    }

    #[test]
    fn each_value_is_read_as_its_flag_says() {
        use Kind::{Plain, Secret, Url};
        let owned = |v: &[(&str, Kind)]| -> Vec<(String, Kind)> {
            v.iter().map(|(s, k)| ((*s).to_owned(), *k)).collect()
        };
        assert_eq!(
            kinds(&[
                "-l",
                "debug",
                "verify",
                "--token",
                "-abc",
                "--base-url=https://h/?t=x",
                "--organization-id",
                "not-a-uuid",
                "-s",
                "http://s/",
                "--verbose",
                "stray",
                "--tokn=q",
                "-xjunit.xml",
                "--",
                "--after",
            ]),
            owned(&[
                ("debug", Plain),
                ("verify", Plain),
                ("-abc", Secret),
                ("https://h/?t=x", Url),
                ("not-a-uuid", Plain),
                ("http://s/", Url),
                ("stray", Secret),
                ("q", Secret),
                ("junit.xml", Plain),
                ("--after", Secret),
            ])
        );
        assert_eq!(kinds(&["verfy", "--x"]), owned(&[("verfy", Plain)]));
        assert_eq!(
            kinds(&["help", "--help", "verify"]),
            owned(&[("help", Plain), ("verify", Plain)])
        );
        // A flag that is not a secret does not take a flag for its value.
        assert_eq!(
            kinds(&["verify", "--pacts", "--verbose"]),
            owned(&[("verify", Plain)])
        );
    }

    #[test]
    fn the_urls_of_a_run_come_from_its_flags_and_their_variables() {
        let urls = given_urls(
            &args(&[
                "verify",
                "--state-change-url",
                "http://s/?k=v",
                "--filter-state",
                "a?b",
            ]),
            |name| (name == "PACT_BROKER_BASE_URL").then(|| "https://b:pw@broker/".to_owned()),
        );
        assert_eq!(urls, ["http://s/?k=v", "https://b:pw@broker/"]);
    }
}

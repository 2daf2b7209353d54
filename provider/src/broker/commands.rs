//! The broker commands at the binary's edge: settings → run → exit code.
//! The only place here that reads the process environment (for the CI
//! system's variables) and runs `git`.

use std::io::Write;

use super::ci_env::BuildInfo;
use super::deployments::RecordDeploymentSettings;
use super::matrix::CanIDeploySettings;
use super::publish as publishing;
use super::publish::PublishSettings;
use super::{ci_env, deployments, matrix};
use crate::exit::EXIT_OK;
use crate::logging::ScrubbingLines;
use crate::redact::Redactor;

/// What the broker commands print, scrubbed of the broker's credentials
/// (taught to `redactor`): a broker may echo them in its answers.
fn scrubbed_output(
    redactor: &Redactor,
) -> (
    ScrubbingLines<std::io::Stdout>,
    ScrubbingLines<std::io::Stderr>,
) {
    (
        ScrubbingLines::new(std::io::stdout(), redactor.clone()),
        ScrubbingLines::new(std::io::stderr(), redactor.clone()),
    )
}

/// What the build says about the consumer version: the CI system's
/// variables, else `git`. Names the CI system on stderr when there is one.
pub(crate) fn build_info() -> BuildInfo {
    let env: ci_env::Env = std::env::vars().collect();
    let build = ci_env::build_info(&env, &ci_env::run_git);
    if let Some(ci) = &build.ci {
        eprintln!("running in {ci}: the commit, branch and build URL come from its variables");
    }
    build
}

/// `orchestrator-pact publish`.
pub(crate) async fn publish(settings: PublishSettings, redactor: &Redactor) -> anyhow::Result<u8> {
    if let Some(auth) = &settings.broker.auth {
        auth.register(redactor);
    }
    let (mut out, _) = scrubbed_output(redactor);
    publishing::publish(&settings, &mut out).await?;
    let _ = out.flush();
    Ok(EXIT_OK)
}

/// `orchestrator-pact can-i-deploy`: 0 deployable, 1 not.
pub(crate) async fn can_i_deploy(
    settings: CanIDeploySettings,
    redactor: &Redactor,
) -> anyhow::Result<u8> {
    if let Some(auth) = &settings.broker.auth {
        auth.register(redactor);
    }
    let (mut out, mut err) = scrubbed_output(redactor);
    let code = matrix::can_i_deploy(&settings, &mut out, &mut err).await?;
    let _ = out.flush();
    Ok(code)
}

/// `orchestrator-pact record-deployment`.
pub(crate) async fn record_deployment(
    settings: RecordDeploymentSettings,
    redactor: &Redactor,
) -> anyhow::Result<u8> {
    if let Some(auth) = &settings.broker.auth {
        auth.register(redactor);
    }
    let (mut out, _) = scrubbed_output(redactor);
    deployments::record_deployment(&settings, &mut out).await?;
    let _ = out.flush();
    Ok(EXIT_OK)
}

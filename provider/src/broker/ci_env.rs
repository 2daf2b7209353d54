//! The commit, branch and build URL of the build this runs in: from the CI
//! system's variables (GitHub Actions, GitLab CI, Azure Pipelines, Jenkins,
//! CircleCI, Bitbucket Pipelines), else from `git`.
//!
//! The environment comes in as a map and `git` as a function, both read at
//! the binary's edge, so tests can play any CI system.

use std::collections::HashMap;

/// Environment variables, read once at the edge.
pub(crate) type Env = HashMap<String, String>;

/// What is known about the build.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildInfo {
    /// The CI system, if one was recognised.
    pub ci: Option<&'static str>,
    /// The commit SHA.
    pub commit: Option<String>,
    /// The branch.
    pub branch: Option<String>,
    /// The URL of the build.
    pub build_url: Option<String>,
}

/// Runs `git ARGS` and returns its trimmed stdout, or `None`.
pub(crate) type Git<'a> = &'a dyn Fn(&[&str]) -> Option<String>;

/// The CI system's variables, filled in from `git` where they say nothing.
pub(crate) fn build_info(env: &Env, git: Git<'_>) -> BuildInfo {
    let mut info = from_ci(env);
    if info.commit.is_none() {
        info.commit = git(&["rev-parse", "HEAD"]);
    }
    if info.branch.is_none() {
        // `HEAD` means a detached checkout: no branch to tell.
        info.branch = git(&["rev-parse", "--abbrev-ref", "HEAD"]).filter(|b| b != "HEAD");
    }
    info
}

/// `git ARGS` in the current directory: stdout trimmed, `None` on any failure.
pub(crate) fn run_git(args: &[&str]) -> Option<String> {
    let output = std::process::Command::new("git")
        .args(args)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// What the CI system's variables tell, if a CI system is recognised.
pub(crate) fn from_ci(env: &Env) -> BuildInfo {
    let var = |name: &str| env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let owned = |name: &str| var(name).map(str::to_owned);
    let first = |names: &[&str]| names.iter().find_map(|n| owned(n));
    let is_true = |name: &str| var(name).is_some_and(|v| v.eq_ignore_ascii_case("true"));

    if is_true("GITHUB_ACTIONS") {
        let build_url = match (
            var("GITHUB_SERVER_URL"),
            var("GITHUB_REPOSITORY"),
            var("GITHUB_RUN_ID"),
        ) {
            (Some(server), Some(repo), Some(run)) => Some(format!(
                "{}/{repo}/actions/runs/{run}",
                server.trim_end_matches('/')
            )),
            _ => None,
        };
        return BuildInfo {
            ci: Some("GitHub Actions"),
            commit: owned("GITHUB_SHA"),
            // On pull requests GITHUB_REF_NAME is `42/merge`; the head ref is the branch.
            branch: first(&["GITHUB_HEAD_REF", "GITHUB_REF_NAME"]),
            build_url,
        };
    }
    if is_true("GITLAB_CI") {
        return BuildInfo {
            ci: Some("GitLab CI"),
            commit: owned("CI_COMMIT_SHA"),
            branch: first(&["CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "CI_COMMIT_REF_NAME"]),
            build_url: owned("CI_JOB_URL"),
        };
    }
    if is_true("TF_BUILD") {
        // BUILD_SOURCEBRANCHNAME is only the last segment (`x` of
        // `feature/x`): prefer the full ref, without `refs/heads/`.
        let branch = first(&["SYSTEM_PULLREQUEST_SOURCEBRANCH", "BUILD_SOURCEBRANCH"])
            .map(|b| b.trim_start_matches("refs/heads/").to_owned())
            .filter(|b| !b.starts_with("refs/"))
            .or_else(|| owned("BUILD_SOURCEBRANCHNAME"));
        let build_url = match (
            var("SYSTEM_COLLECTIONURI"),
            var("SYSTEM_TEAMPROJECT"),
            var("BUILD_BUILDID"),
        ) {
            (Some(collection), Some(project), Some(id)) => Some(format!(
                "{}/{project}/_build/results?buildId={id}",
                collection.trim_end_matches('/')
            )),
            _ => None,
        };
        return BuildInfo {
            ci: Some("Azure Pipelines"),
            commit: owned("BUILD_SOURCEVERSION"),
            branch,
            build_url,
        };
    }
    if is_true("CIRCLECI") {
        return BuildInfo {
            ci: Some("CircleCI"),
            commit: owned("CIRCLE_SHA1"),
            branch: owned("CIRCLE_BRANCH"),
            build_url: owned("CIRCLE_BUILD_URL"),
        };
    }
    if var("BITBUCKET_BUILD_NUMBER").is_some() {
        let build_url = match (
            var("BITBUCKET_GIT_HTTP_ORIGIN"),
            var("BITBUCKET_BUILD_NUMBER"),
        ) {
            (Some(origin), Some(n)) => Some(format!(
                "{}/addon/pipelines/home#!/results/{n}",
                origin.trim_end_matches('/')
            )),
            _ => None,
        };
        return BuildInfo {
            ci: Some("Bitbucket Pipelines"),
            commit: owned("BITBUCKET_COMMIT"),
            branch: owned("BITBUCKET_BRANCH"),
            build_url,
        };
    }
    if var("JENKINS_URL").is_some() || var("JENKINS_HOME").is_some() {
        // Multibranch pipelines set BRANCH_NAME; the git plugin sets
        // GIT_BRANCH as `origin/main`.
        let branch = owned("BRANCH_NAME").or_else(|| {
            owned("GIT_BRANCH").map(|b| {
                b.trim_start_matches("refs/heads/")
                    .trim_start_matches("origin/")
                    .to_owned()
            })
        });
        return BuildInfo {
            ci: Some("Jenkins"),
            commit: owned("GIT_COMMIT"),
            branch,
            build_url: owned("BUILD_URL"),
        };
    }
    BuildInfo::default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn env(pairs: &[(&str, &str)]) -> Env {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[rstest]
    #[case::github(
        &[("GITHUB_ACTIONS", "true"), ("GITHUB_SHA", "abc"), ("GITHUB_REF_NAME", "main"),
          ("GITHUB_SERVER_URL", "https://github.com"), ("GITHUB_REPOSITORY", "o/r"), ("GITHUB_RUN_ID", "42")],
        "GitHub Actions", "abc", "main", "https://github.com/o/r/actions/runs/42")]
    #[case::github_pull_request(
        &[("GITHUB_ACTIONS", "true"), ("GITHUB_SHA", "abc"), ("GITHUB_REF_NAME", "7/merge"), ("GITHUB_HEAD_REF", "feat/x"),
          ("GITHUB_SERVER_URL", "https://github.com"), ("GITHUB_REPOSITORY", "o/r"), ("GITHUB_RUN_ID", "42")],
        "GitHub Actions", "abc", "feat/x", "https://github.com/o/r/actions/runs/42")]
    #[case::gitlab(
        &[("GITLAB_CI", "true"), ("CI_COMMIT_SHA", "def"), ("CI_COMMIT_REF_NAME", "dev"), ("CI_JOB_URL", "https://gitlab/j/1")],
        "GitLab CI", "def", "dev", "https://gitlab/j/1")]
    #[case::azure(
        &[("TF_BUILD", "True"), ("BUILD_SOURCEVERSION", "123"), ("BUILD_SOURCEBRANCH", "refs/heads/feature/y"),
          ("BUILD_SOURCEBRANCHNAME", "y"), ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/org/"),
          ("SYSTEM_TEAMPROJECT", "proj"), ("BUILD_BUILDID", "9")],
        "Azure Pipelines", "123", "feature/y", "https://dev.azure.com/org/proj/_build/results?buildId=9")]
    #[case::jenkins(
        &[("JENKINS_URL", "https://ci/"), ("GIT_COMMIT", "456"), ("GIT_BRANCH", "origin/release"), ("BUILD_URL", "https://ci/job/1/")],
        "Jenkins", "456", "release", "https://ci/job/1/")]
    #[case::circleci(
        &[("CIRCLECI", "true"), ("CIRCLE_SHA1", "789"), ("CIRCLE_BRANCH", "main"), ("CIRCLE_BUILD_URL", "https://circleci.com/b/1")],
        "CircleCI", "789", "main", "https://circleci.com/b/1")]
    #[case::bitbucket(
        &[("BITBUCKET_BUILD_NUMBER", "5"), ("BITBUCKET_COMMIT", "fed"), ("BITBUCKET_BRANCH", "main"),
          ("BITBUCKET_GIT_HTTP_ORIGIN", "https://bitbucket.org/o/r")],
        "Bitbucket Pipelines", "fed", "main", "https://bitbucket.org/o/r/addon/pipelines/home#!/results/5")]
    fn reads_each_ci_systems_variables(
        #[case] vars: &[(&str, &str)],
        #[case] ci: &'static str,
        #[case] commit: &str,
        #[case] branch: &str,
        #[case] build_url: &str,
    ) {
        let info = build_info(&env(vars), &|_| panic!("git must not be asked"));
        assert_eq!(
            info,
            BuildInfo {
                ci: Some(ci),
                commit: Some(commit.into()),
                branch: Some(branch.into()),
                build_url: Some(build_url.into()),
            }
        );
    }

    #[test]
    fn falls_back_to_git_outside_ci() {
        let git = |args: &[&str]| match args {
            ["rev-parse", "HEAD"] => Some("cafe".to_owned()),
            ["rev-parse", "--abbrev-ref", "HEAD"] => Some("topic".to_owned()),
            _ => None,
        };
        let info = build_info(&env(&[]), &git);
        assert_eq!(info.ci, None);
        assert_eq!(info.commit.as_deref(), Some("cafe"));
        assert_eq!(info.branch.as_deref(), Some("topic"));
        assert_eq!(info.build_url, None);
    }

    #[test]
    fn a_detached_checkout_has_no_branch() {
        let git = |args: &[&str]| Some(if args.len() == 2 { "cafe" } else { "HEAD" }.to_owned());
        assert_eq!(build_info(&env(&[]), &git).branch, None);
    }

    #[test]
    fn the_ci_system_wins_over_git_but_git_fills_its_gaps() {
        let git = |args: &[&str]| Some(if args.len() == 2 { "cafe" } else { "topic" }.to_owned());
        let info = build_info(&env(&[("CIRCLECI", "true"), ("CIRCLE_SHA1", "789")]), &git);
        assert_eq!(info.commit.as_deref(), Some("789"));
        assert_eq!(info.branch.as_deref(), Some("topic"));
    }
}

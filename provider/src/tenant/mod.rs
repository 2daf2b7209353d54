//! A real tenant's Identity API, as the verifier uses it around the
//! contract: credentials and token renewal, throwaway users, retries.
//!
//! Every call here is set-up or teardown, and is retried with backoff on
//! 429 (honouring `Retry-After`), 502, 503, 504 and dropped connections,
//! within a time budget and a number of attempts. The interaction under
//! verification never goes through here: its answer is the verdict.

pub(crate) mod admin;
pub(crate) mod retry;
pub(crate) mod throttle;
pub(crate) mod token;

use uipath_identity_client::{ClientError, IdentityClient, Password, UserId};
use uuid::Uuid;

use admin::{Answer, ListedUser, NewUser, UserPage};
pub(crate) use throttle::Throttle;

pub(crate) use retry::RetryPolicy;
pub(crate) use token::{Credentials, TokenSource};

use crate::redact::Redactor;

/// The fixed start of every throwaway user's name, so that leftovers can be
/// found: `orchestrator-pact-{run id}-{n}`.
pub(crate) const USER_PREFIX: &str = "orchestrator-pact-";

/// Why a call to the tenant did not do its job.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TenantError {
    /// No answer at all, after the retries.
    #[error("{what}: {reason}{hint}")]
    Unreachable {
        /// What was being done.
        what: String,
        /// Why, with the URL called (no secret in it).
        reason: String,
        /// The next step, if one is known.
        hint: String,
    },
    /// Not sent: the run lacks what the call needs (nothing was asked of
    /// the tenant).
    #[error("{what}: {problem}")]
    Unusable {
        /// What was being done.
        what: String,
        /// What is missing, and the next step.
        problem: String,
    },
    /// Refused by the tenant.
    #[error("{what}: the tenant answered {status}{detail}{hint}")]
    Refused {
        /// What was being done.
        what: String,
        /// The status.
        status: u16,
        /// The answer's gist, scrubbed.
        detail: String,
        /// The next step.
        hint: String,
    },
}

impl TenantError {
    /// Whether the tenant answered, and not with a server error: the call
    /// was not done (a refused create left nothing to remove under its id).
    /// No answer, or a 5xx, may hide a call that was done.
    pub(crate) fn is_refusal(&self) -> bool {
        matches!(self, TenantError::Refused { status, .. } if *status < 500)
    }
}

/// The next step when the Identity API is not where the flags say.
const CHECK_BASE_URL: &str = ". Check `--base-url` and `--identity-prefix` (identity_ for Automation Cloud and Suite, identity for standalone)";

fn hint_for(status: u16, need_scope: &str) -> String {
    match status {
        401 => ". The token was refused: check `--token`/UIPATH_PAT, or `--client-id`/`--client-secret` (UIPATH_CLIENT_ID, UIPATH_CLIENT_SECRET)".into(),
        403 => format!(". The token lacks a scope: give the External Application (or the Personal Access Token) {need_scope}"),
        404 => CHECK_BASE_URL.into(),
        _ => String::new(),
    }
}

/// The next step for an answer the harness would not take: a redirect
/// (followed by no call to the tenant), a body past the cap, a time-out.
pub(crate) fn edge_hint(reason: &str) -> Option<&'static str> {
    let text = reason.to_lowercase();
    if text.contains("redirect") {
        Some(
            ". The harness follows no redirect from the tenant (the request carries a password, a token or the client secret): point `--base-url` (or `--identity-url`) at the host that answers itself",
        )
    } else if text.contains("larger than the cap") {
        Some(crate::http::TOO_LARGE_HINT)
    } else if text.contains("timed out") {
        Some(
            ". The answer did not arrive within `--request-timeout` (PACT_PROVIDER_REQUEST_TIMEOUT): raise it if the deployment is slow",
        )
    } else {
        None
    }
}

/// The next step for a call that got no answer, from the words of its
/// error chain: a redirect, a body past the cap, a time-out, a refused
/// certificate, a name that does not resolve, or anything else.
pub(crate) fn network_hint(reason: &str) -> &'static str {
    if let Some(hint) = edge_hint(reason) {
        return hint;
    }
    let text = reason.to_lowercase();
    if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
        ". The TLS certificate was not accepted: fix the certificate, or pass `--insecure` for a self-signed test deployment"
    } else if text.contains("dns") || text.contains("resolve") {
        ". The host name does not resolve: check `--base-url`"
    } else {
        ". Check that the deployment is running and reachable from here, and that `--base-url` is right"
    }
}

/// One tenant: its Identity API, the organization users are created in,
/// the token source, and the retry policy.
#[derive(Debug)]
pub(crate) struct Tenant {
    api: IdentityClient,
    /// The organization (partition) throwaway users are created in.
    pub organization: Option<Uuid>,
    /// Where tokens come from.
    pub tokens: std::sync::Arc<TokenSource>,
    retry: RetryPolicy,
    redactor: Redactor,
    /// The run-wide pause after a 429, shared by every call (and by the
    /// relay that forwards the verified requests).
    throttle: std::sync::Arc<Throttle>,
}

impl Tenant {
    /// A tenant reached through `api` (whose token is ignored: each call uses
    /// the token source's current token).
    pub(crate) fn new(
        api: IdentityClient,
        organization: Option<Uuid>,
        tokens: std::sync::Arc<TokenSource>,
        retry: RetryPolicy,
        redactor: Redactor,
    ) -> Self {
        Self {
            api,
            organization,
            tokens,
            retry,
            redactor,
            throttle: std::sync::Arc::new(Throttle::new(retry.base_delay, retry.max_delay)),
        }
    }

    /// The run-wide pause after a 429, for the relay: a 429 answered to a
    /// verified request pauses the tenant calls too, and theirs pause it.
    pub(crate) fn throttle(&self) -> std::sync::Arc<Throttle> {
        self.throttle.clone()
    }

    fn client(&self) -> IdentityClient {
        self.api.with_token(self.tokens.current())
    }

    /// Calls with retries; an answer other than 2xx is an error.
    async fn call<F, Fut>(
        &self,
        what: &str,
        need_scope: &str,
        call: F,
    ) -> Result<Answer, TenantError>
    where
        F: Fn(IdentityClient) -> Fut,
        Fut: std::future::Future<Output = Result<Answer, ClientError>>,
    {
        self.call_accepting(what, need_scope, Answer::is_success, call)
            .await
    }

    /// Calls with retries; `accept` tells which answers are the caller's to
    /// interpret, the others are errors.
    async fn call_accepting<F, Fut>(
        &self,
        what: &str,
        need_scope: &str,
        accept: impl Fn(&Answer) -> bool,
        call: F,
    ) -> Result<Answer, TenantError>
    where
        F: Fn(IdentityClient) -> Fut,
        Fut: std::future::Future<Output = Result<Answer, ClientError>>,
    {
        self.tokens.refresh_if_needed().await?;
        // Every attempt waits out a pause another call's 429 started.
        let call = &call;
        let answer = retry::run(&self.retry, || async move {
            self.throttle.wait().await;
            let answer = call(self.client()).await;
            if let Ok(a) = &answer {
                self.throttle.observe(a.status, a.retry_after);
            }
            answer
        })
        .await;
        match answer {
            Ok(a) if accept(&a) => Ok(a),
            Ok(a) => Err(TenantError::Refused {
                what: what.to_owned(),
                status: a.status,
                detail: {
                    let body = self.redactor.scrub(&a.body_text(300));
                    if body.trim().is_empty() {
                        String::new()
                    } else {
                        format!(": {body}")
                    }
                },
                hint: hint_for(a.status, need_scope),
            }),
            Err(e) => Err(TenantError::Unreachable {
                what: what.to_owned(),
                hint: network_hint(&e.to_string()).into(),
                reason: self.redactor.scrub(&e.to_string()),
            }),
        }
    }

    /// The organization, or an error saying how to give it.
    pub(crate) fn require_organization(&self) -> Result<Uuid, TenantError> {
        self.organization.ok_or_else(|| TenantError::Unusable {
            what: "creating a throwaway user".into(),
            problem: "the organization id is needed: pass `--organization-id` or set UIPATH_ORGANIZATION_ID".into(),
        })
    }

    /// Creates a user; its id is the caller's.
    pub(crate) async fn create_user(&self, user: &NewUser) -> Result<(), TenantError> {
        let answer = self
            .call(
                "creating a throwaway user",
                "PM.User or PM.User.Write",
                |c| {
                    let user = user.clone();
                    async move { admin::create_user(&c, &user).await }
                },
            )
            .await?;
        let refused = answer
            .json::<uipath_identity_client::IdentityResult>()
            .is_some_and(|r| !r.succeeded);
        if refused {
            return Err(TenantError::Refused {
                what: format!("creating the throwaway user {}", user.user_name),
                status: answer.status,
                detail: format!(": {}", self.redactor.scrub(&answer.body_text(300))),
                hint: ". If the password policy is stricter than the default, describe it with `--password-policy`".into(),
            });
        }
        // An answer of success is not yet a user: a tenant (or something in
        // front of it) may answer 200 and create nothing, or create the user
        // under another id. Then the interactions could not be checked,
        // which is not the same as the contract failing.
        let found = self
            .call_accepting(
                &format!("reading back the throwaway user {}", user.user_name),
                "PM.User or PM.User.Read",
                |a| a.is_success() || a.status == 404,
                |c| {
                    let id = user.id;
                    async move { admin::get_user(&c, &id).await }
                },
            )
            .await?;
        if found.status == 404 {
            return Err(TenantError::Refused {
                what: format!("creating the throwaway user {}", user.user_name),
                status: answer.status,
                detail: format!(
                    ", but then answered 404 for the user {} (`GET api/User/{}`): it was not created under the id the harness chose",
                    user.id, user.id
                ),
                hint: format!(
                    ". If it was created under another id, `orchestrator-pact cleanup` removes it by its name ({USER_PREFIX}…)"
                ),
            });
        }
        Ok(())
    }

    /// Deletes a user; 404 counts as already deleted.
    pub(crate) async fn delete_user(&self, id: &UserId) -> Result<(), TenantError> {
        self.call_accepting(
            &format!("deleting the user {id}"),
            "PM.User or PM.User.Write",
            |a| a.is_success() || a.status == 404,
            |c| {
                let id = *id;
                async move { admin::delete_user(&c, &id).await }
            },
        )
        .await?;
        Ok(())
    }

    /// Sets a user's password as an administrator (`PUT api/User/{id}`),
    /// without its current one: how an existing user's password is put
    /// back. Nothing in it can be a wrong guess, so it never counts toward
    /// lockout; a refusal (the policy, say) is an error.
    pub(crate) async fn set_password(&self, id: &UserId, to: &Password) -> Result<(), TenantError> {
        let what = format!("setting the password of the user {id} back");
        let answer = self
            .call(&what, "PM.User or PM.User.Write", |c| {
                let to = to.clone();
                let id = *id;
                async move { admin::set_password(&c, &id, &to).await }
            })
            .await?;
        if answer
            .json::<uipath_identity_client::IdentityResult>()
            .is_some_and(|r| !r.succeeded)
        {
            return Err(TenantError::Refused {
                what,
                status: answer.status,
                detail: format!(": {}", self.redactor.scrub(&answer.body_text(300))),
                hint: ". The tenant refused the password it had before the run: set one in the admin portal".into(),
            });
        }
        Ok(())
    }

    /// The users of the organization whose name starts with `prefix`, page
    /// by page. The tenant's `totalCount` is a hint, never a loop bound: the
    /// listing stops on an empty page, on a page of users already seen (a
    /// tenant that ignores `skip`), or after [`MAX_LIST_PAGES`] pages, and
    /// says which. `progress` is told after each page.
    pub(crate) async fn users_with_prefix(
        &self,
        prefix: &str,
        progress: &mut (dyn FnMut(&ListProgress) + Send),
    ) -> Result<Listing, TenantError> {
        let organization = self.require_organization()?;
        let mut found = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut skip = 0u32;
        let mut pages = 0usize;
        let incomplete = loop {
            let answer = self
                .call("listing users", "PM.User or PM.User.Read", |c| async move {
                    admin::list_users(&c, &organization, prefix, PAGE_SIZE, skip).await
                })
                .await?;
            // An answer that is no page of users (a proxy's login page, say)
            // must not read as "no users": cleanup would leave them.
            let page: UserPage = answer.json().ok_or_else(|| TenantError::Refused {
                what: "listing users".into(),
                status: answer.status,
                detail: format!(
                    ", which is not a page of users: {}",
                    self.redactor.scrub(&answer.body_text(300))
                ),
                hint: CHECK_BASE_URL.into(),
            })?;
            pages += 1;
            let results = page.results.unwrap_or_default();
            let n = u32::try_from(results.len()).unwrap_or(u32::MAX);
            let mut new = 0usize;
            for user in results {
                if seen.insert(user.id) {
                    new += 1;
                    if user
                        .user_name
                        .as_deref()
                        .is_some_and(|name| name.starts_with(prefix))
                    {
                        found.push(user);
                    }
                }
            }
            skip = skip.saturating_add(n);
            progress(&ListProgress {
                pages,
                listed: seen.len(),
                total: page.total_count,
                matching: found.len(),
            });
            if n == 0 || u64::from(skip) >= page.total_count {
                break None;
            }
            if new == 0 {
                break Some(format!(
                    "the tenant answered page {pages} (skip {}) with users it had already listed: it seems to ignore `skip`",
                    skip.saturating_sub(n)
                ));
            }
            if pages >= MAX_LIST_PAGES {
                break Some(format!(
                    "stopped after {pages} pages ({} users) of the {} the tenant counts",
                    seen.len(),
                    page.total_count
                ));
            }
        };
        Ok(Listing {
            users: found,
            incomplete,
        })
    }
}

/// Users asked for per page of a listing.
const PAGE_SIZE: u32 = 100;

/// The most pages one listing reads (`PAGE_SIZE` users each): enough for
/// any run's leftovers, and an end for a tenant whose pages never end.
pub(crate) const MAX_LIST_PAGES: usize = 200;

/// How far a listing has got, after each page.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ListProgress {
    /// Pages read.
    pub pages: usize,
    /// Distinct users listed.
    pub listed: usize,
    /// How many the tenant says there are (its `totalCount`).
    pub total: u64,
    /// Of those listed, how many match the prefix.
    pub matching: usize,
}

/// The users a listing found, and why it stopped early, if it did.
#[derive(Debug)]
pub(crate) struct Listing {
    /// The matching users.
    pub users: Vec<ListedUser>,
    /// Why the listing did not read every page, if it did not.
    pub incomplete: Option<String>,
}

//! Adapting each request to the deployment: credentials where the pact has
//! them, and the identity prefix of a standalone install.
//!
//! A request filter, not `custom_headers`: custom headers cannot replace a
//! header the pact already has when the case of its name differs
//! (pact-reference issue 430), and they would add a token to requests whose
//! pact has none, such as the interaction that proves anonymous calls are
//! refused.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use itertools::Either;
use pact_models::bodies::OptionalBody;
use pact_models::v4::http_parts::HttpRequest;
use pact_verifier::callback_executors::RequestFilterExecutor;
use serde_json::Value;
use uipath_identity_client::IdentityPrefix;

use crate::tenant::TokenSource;

/// Replaces the `Authorization` header with the current bearer token in
/// each request whose pact carries one (and leaves the others anonymous),
/// and maps the recorded `/identity_/` prefix to the deployment's.
#[derive(Debug)]
pub(crate) struct InjectCredentials {
    tokens: Option<Arc<TokenSource>>,
    prefix: IdentityPrefix,
}

impl InjectCredentials {
    /// A filter injecting the tokens of `tokens` (none: headers stay as
    /// recorded) for a deployment under `prefix`.
    pub(crate) fn new(tokens: Option<Arc<TokenSource>>, prefix: IdentityPrefix) -> Self {
        Self { tokens, prefix }
    }
}

impl RequestFilterExecutor for InjectCredentials {
    fn call(self: Arc<Self>, request: &HttpRequest) -> HttpRequest {
        let mut request = request.clone();
        let token = self.tokens.as_ref().and_then(|t| t.current());
        if let (Some(token), Some(headers)) = (token, request.headers.as_mut()) {
            for (name, values) in headers.iter_mut() {
                if name.eq_ignore_ascii_case("authorization") {
                    *values = vec![format!("Bearer {}", token.expose())];
                }
            }
        }
        let recorded = format!("/{}/", IdentityPrefix::Cloud);
        if self.prefix != IdentityPrefix::Cloud && request.path.starts_with(&recorded) {
            request.path = format!("/{}/{}", self.prefix, &request.path[recorded.len()..]);
        }
        request
    }

    fn call_non_http(
        &self,
        body: &OptionalBody,
        metadata: &HashMap<String, Either<Value, Bytes>>,
    ) -> (OptionalBody, HashMap<String, Either<Value, Bytes>>) {
        (body.clone(), metadata.clone())
    }
}

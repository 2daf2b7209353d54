//! Injecting credentials into the requests sent to the provider.
//!
//! A request filter, not `custom_headers`: custom headers cannot replace a
//! header the pact already has when the case of its name differs
//! (pact-reference issue 430), and they would add a token to requests whose
//! pact has none, such as the interaction that proves anonymous calls are
//! refused.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use consumer::BearerToken;
use itertools::Either;
use pact_models::bodies::OptionalBody;
use pact_models::v4::http_parts::HttpRequest;
use pact_verifier::callback_executors::RequestFilterExecutor;
use serde_json::Value;

/// Replaces the `Authorization` header with `Bearer {token}` in each request
/// whose pact carries one; leaves every other request as it is.
#[derive(Debug)]
pub struct InjectBearer {
    token: Option<BearerToken>,
}

impl InjectBearer {
    /// A filter that injects `token`, or changes nothing when there is none.
    pub fn new(token: Option<BearerToken>) -> Self {
        Self { token }
    }
}

impl RequestFilterExecutor for InjectBearer {
    fn call(self: Arc<Self>, request: &HttpRequest) -> HttpRequest {
        let mut request = request.clone();
        if let (Some(token), Some(headers)) = (&self.token, request.headers.as_mut()) {
            for (name, values) in headers.iter_mut() {
                if name.eq_ignore_ascii_case("authorization") {
                    *values = vec![format!("Bearer {}", token.expose())];
                }
            }
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

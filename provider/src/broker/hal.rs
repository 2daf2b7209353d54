//! HAL, as the Pact Broker speaks it: `_links` relations whose `href` may be
//! a template (`/pacts/provider/{provider}/for-verification`), and which may
//! hold one link or a list of named links (`pb:record-deployment`).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

/// One link of a HAL resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// Where it points; may be a template.
    pub href: String,
    /// Its name (`pb:record-deployment` links are named for environments).
    pub name: Option<String>,
    /// Its title, for people.
    pub title: Option<String>,
}

impl Link {
    fn from_json(value: &Value) -> Option<Self> {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        Some(Self {
            href: text("href")?,
            name: text("name"),
            title: text("title"),
        })
    }

    /// The href with each `{name}` replaced by its percent-encoded value.
    /// Brokers do not always mark templated links `templated: true`, so
    /// every href is expanded.
    pub fn expand(&self, vars: &[(&str, &str)]) -> String {
        expand(&self.href, vars)
    }
}

/// The first link of relation `rel` in `resource`'s `_links` (a relation
/// may hold one link or a list).
pub(crate) fn link(resource: &Value, rel: &str) -> Option<Link> {
    links(resource, rel).into_iter().next()
}

/// Every link of relation `rel` in `resource`'s `_links`.
pub(crate) fn links(resource: &Value, rel: &str) -> Vec<Link> {
    match resource.get("_links").and_then(|l| l.get(rel)) {
        Some(Value::Array(items)) => items.iter().filter_map(Link::from_json).collect(),
        Some(one) => Link::from_json(one).into_iter().collect(),
        None => Vec::new(),
    }
}

/// The relations `resource` offers, sorted, for error messages.
pub(crate) fn relations(resource: &Value) -> Vec<String> {
    let mut rels: Vec<String> = resource
        .get("_links")
        .and_then(Value::as_object)
        .map(|m| m.keys().filter(|k| *k != "curies").cloned().collect())
        .unwrap_or_default();
    rels.sort();
    rels
}

/// What a template value may contain unencoded: RFC 3986's unreserved
/// characters. Everything else, `/` and spaces included, is encoded, so a
/// pacticipant named `Pact Broker` or a version `1.0/rc` stays one segment.
const TEMPLATE_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `template` with each `{name}` of `vars` replaced by its encoded value;
/// unknown variables are left as they are.
pub(crate) fn expand(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in vars {
        let placeholder = format!("{{{name}}}");
        if out.contains(&placeholder) {
            let encoded = utf8_percent_encode(value, TEMPLATE_VALUE).to_string();
            out = out.replace(&placeholder, &encoded);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_one_link_or_a_list_of_named_links() {
        let resource = json!({"_links": {
            "self": {"href": "/x", "title": "X"},
            "pb:record-deployment": [
                {"href": "/d/1", "name": "test"},
                {"href": "/d/2", "name": "production"}
            ],
            "broken": {"title": "no href"}
        }});
        assert_eq!(link(&resource, "self").unwrap().href, "/x");
        let named = links(&resource, "pb:record-deployment");
        assert_eq!(named.len(), 2);
        assert_eq!(named[1].name.as_deref(), Some("production"));
        assert!(link(&resource, "broken").is_none());
        assert!(link(&resource, "missing").is_none());
        assert_eq!(
            relations(&resource),
            ["broken", "pb:record-deployment", "self"]
        );
    }

    #[test]
    fn expands_templates_with_encoded_values() {
        assert_eq!(
            expand(
                "/pacticipants/{pacticipant}/versions/{version}",
                &[("pacticipant", "Pact Broker"), ("version", "1.0/rc+1")]
            ),
            "/pacticipants/Pact%20Broker/versions/1.0%2Frc%2B1"
        );
        assert_eq!(expand("/a/{unknown}", &[("other", "x")]), "/a/{unknown}");
    }
}

//! Tokens and passwords never appear in `Debug` or `Display` output.

use uipath_identity_client::{
    BaseUrl, BearerToken, ChangePassword, IdentityClient, IdentityPrefix, Password, SecretString,
};

const TOKEN: &str = "tok-3f9a1c7e5b2d";
const OLD: &str = "Old-s3cret-4411";
const NEW: &str = "New-s3cret-9922";

fn all_renderings<T: std::fmt::Debug>(value: &T) -> String {
    format!("{value:?}\n{value:#?}")
}

fn assert_hides(rendered: &str) {
    for secret in [TOKEN, OLD, NEW] {
        assert!(
            !rendered.contains(secret),
            "`{secret}` leaked into: {rendered}"
        );
    }
}

#[test]
fn secret_types_print_stars_only() {
    let token = BearerToken::from(TOKEN);
    let old = Password::from(OLD);
    let secret = SecretString::from(NEW);
    let rendered = format!(
        "{}{}{}{}",
        all_renderings(&token),
        all_renderings(&old),
        all_renderings(&secret),
        format_args!("{token} {old} {secret}")
    );
    assert_hides(&rendered);
    assert!(rendered.contains("***"));
    // The value is still there for the wire.
    assert_eq!(token.expose(), TOKEN);
}

#[test]
fn a_change_password_command_hides_both_passwords_but_serialises_them() {
    let command = ChangePassword::new(OLD, NEW);
    assert_hides(&all_renderings(&command));
    let wire = serde_json::to_value(&command).unwrap();
    assert_eq!(
        wire,
        serde_json::json!({ "oldPassword": OLD, "newPassword": NEW })
    );
}

#[test]
fn a_client_hides_its_token() {
    let base = BaseUrl::parse(
        "https://cloud.example.test/org/tenant/",
        IdentityPrefix::Cloud,
    )
    .unwrap();
    let client = IdentityClient::new(base, Some(BearerToken::from(TOKEN))).unwrap();
    let rendered = all_renderings(&client);
    assert_hides(&rendered);
    assert!(rendered.contains("cloud.example.test"), "{rendered}");
}

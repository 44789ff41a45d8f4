//! What a person does: log in, click, type.

use fantoccini::Client;

use crate::{find, Berth};

/// Open berth and log in through the login form.
pub async fn login(c: &Client, berth: &Berth, user: &str, password: &str) {
    c.goto(&berth.url("/login"))
        .await
        .expect("open the login page");
    find::by_testid(c, "login-username")
        .await
        .send_keys(user)
        .await
        .expect("type the username");
    find::by_testid(c, "login-password")
        .await
        .send_keys(password)
        .await
        .expect("type the password");
    find::by_testid(c, "login-submit")
        .await
        .click()
        .await
        .expect("click log in");
    // Logged in: the header's logout button appears.
    find::by_testid(c, "logout").await;
}

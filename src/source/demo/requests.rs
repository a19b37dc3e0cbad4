//! Who sends the demo's requests: the attributes a VirtualService's `match` can test.
//!
//! Every simulated request carries the headers of the user behind it, on every hop (the
//! demo's apps pass them on, as Bookinfo's productpage passes on `end-user`):
//!
//! | who                  | share | headers                                                  |
//! |----------------------|-------|----------------------------------------------------------|
//! | jason, signed in     | 10 %  | `end-user: jason`, `cookie: session=7f3a9c; user=jason`  |
//! | everyone else        | 90 %  | `cookie: session=anonymous` (no `end-user`)              |
//!
//! and, independently of the user, a browser: `user-agent` is Chrome for 60 %, Firefox for
//! 30 % and curl for 10 % of the requests. So `end-user: jason` matches exactly 10 % of a
//! route's requests, a `user-agent` regex `.*Firefox.*` 30 %, and both together 3 %.

/// One kind of request and the share of every route's requests it makes up.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestClass {
    pub share: f64,
    /// Lowercase header names, as Istio matches them.
    pub headers: Vec<(&'static str, &'static str)>,
}

impl RequestClass {
    pub fn header(&self, name: &str) -> Option<&'static str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| *value)
    }
}

const USERS: [(f64, &[(&str, &str)]); 2] = [
    (
        0.10,
        &[
            ("end-user", "jason"),
            ("cookie", "session=7f3a9c; user=jason"),
        ],
    ),
    (0.90, &[("cookie", "session=anonymous")]),
];

const BROWSERS: [(f64, &str); 3] = [
    (
        0.60,
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    ),
    (
        0.30,
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    ),
    (0.10, "curl/8.5.0"),
];

/// Every combination of user and browser, with its share; the shares add up to 1.
pub fn request_classes() -> Vec<RequestClass> {
    let mut classes = Vec::with_capacity(USERS.len() * BROWSERS.len());
    for (user_share, user_headers) in USERS {
        for (browser_share, agent) in BROWSERS {
            let mut headers: Vec<(&'static str, &'static str)> = user_headers.to_vec();
            headers.push(("user-agent", agent));
            classes.push(RequestClass {
                share: user_share * browser_share,
                headers,
            });
        }
    }
    classes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shares_add_up_to_every_request_and_jason_is_a_tenth() {
        let classes = request_classes();
        let total: f64 = classes.iter().map(|c| c.share).sum();
        assert!((total - 1.0).abs() < 1e-12);
        let jason: f64 = classes
            .iter()
            .filter(|c| c.header("End-User") == Some("jason"))
            .map(|c| c.share)
            .sum();
        assert!((jason - 0.10).abs() < 1e-12);
    }
}

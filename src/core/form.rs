//! `application/x-www-form-urlencoded` (WHATWG URL standard) through the
//! form_urlencoded crate: OAuth form bodies, query strings and ids in paths.

/// `name=value&name=value`, each part percent-encoded; a space becomes `+`.
pub fn encode(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// One value percent-encoded the same way (ids in URL paths, single query values).
pub fn component(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The name/value pairs of a query string or form body, in order. Malformed
/// escapes stay as they are; bytes that are not UTF-8 become U+FFFD.
pub fn decode(input: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(input.as_bytes()).into_owned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_forms_do() {
        let pairs = [("grant_type", "password"), ("user name", "a@b.c"), ("pass", "p&ss wörd=+%/~*-._!'()"), ("", "")];
        assert_eq!(encode(&pairs), "grant_type=password&user+name=a%40b.c&pass=p%26ss+w%C3%B6rd%3D%2B%25%2F%7E*-._%21%27%28%29&=");
        assert_eq!(encode(&[]), "");
        assert_eq!(component("a b/c"), "a+b%2Fc");
    }

    #[test]
    fn decodes_what_it_encodes_and_tolerates_bad_escapes() {
        assert_eq!(decode("code=a%2Bb&state=s%20t"), [("code".to_owned(), "a+b".to_owned()), ("state".to_owned(), "s t".to_owned())]);
        assert_eq!(decode("&&x&bad=%zz%4%"), [("x".to_owned(), String::new()), ("bad".to_owned(), "%zz%4%".to_owned())]);
        assert_eq!(decode("%FF=1"), [("\u{fffd}".to_owned(), "1".to_owned())]);
    }
}

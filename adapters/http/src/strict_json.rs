//! Duplicate keys in a JSON body. serde_json keeps the last of two equal keys, so
//! `{"type":"Close","type":"LogContact"}` ran a `LogContact`, while a proxy, a log reader or an
//! auditor's tool that keeps the first would see a `Close`: one body, two meanings. RFC 8259
//! leaves such objects' meaning to the parser; obliged refuses them. This walks the body once
//! (serde_json's own parser, so the same nesting limit) and names the first key it meets twice.

use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};

/// The path (`/customer/name`) of the first key that appears twice in one object, or `None`.
/// A body that is not JSON gives `None`: the caller's parse reports that.
pub fn first_duplicate_key(bytes: &[u8]) -> Option<String> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    match (Walk {
        path: String::new(),
    })
    .deserialize(&mut deserializer)
    {
        Err(error) => {
            let message = error.to_string();
            message
                .strip_prefix(DUPLICATE)
                .map(|rest| rest.split(" at line ").next().unwrap_or(rest).to_owned())
        }
        Ok(()) => None,
    }
}

const DUPLICATE: &str = "duplicate key ";

/// A visitor of one JSON value at `path`.
struct Walk {
    path: String,
}

impl<'de> DeserializeSeed<'de> for Walk {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = format!("{}/{}", self.path, key);
            if !seen.insert(key) {
                return Err(A::Error::custom(format!("{DUPLICATE}{path}")));
            }
            map.next_value_seed(Walk { path })?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        while seq
            .next_element_seed(Walk {
                path: format!("{}/{index}", self.path),
            })?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::first_duplicate_key;

    #[test]
    fn a_key_given_twice_is_named_at_any_depth() {
        assert_eq!(
            first_duplicate_key(br#"{"type":"Close","type":"LogContact"}"#).as_deref(),
            Some("/type")
        );
        assert_eq!(
            first_duplicate_key(br#"{"customer":{"name":"a","email":"b","name":"c"}}"#).as_deref(),
            Some("/customer/name")
        );
        assert_eq!(
            first_duplicate_key(br#"{"items":[{"a":1},{"a":1,"a":2}]}"#).as_deref(),
            Some("/items/1/a")
        );
        // The same key in different objects, and escaped forms of different keys, are fine.
        assert_eq!(
            first_duplicate_key(br#"{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}"#),
            None
        );
        assert_eq!(first_duplicate_key(br#"{"a":1,"\u0062":2}"#), None);
        // An escaped form of the same key is the same key.
        assert_eq!(
            first_duplicate_key(br#"{"type":"Close","\u0074ype":"LogContact"}"#).as_deref(),
            Some("/type")
        );
        assert_eq!(first_duplicate_key(b"not json"), None);
    }
}

//! JSON text to typed values, in two steps sized for the wasm budget.
//!
//! 1. serde_json parses the text into a `serde_json::Value`: one text parser
//!    for the whole module, instead of one compiled into every type's visitor.
//! 2. [`ValueDeserializer`] turns the `Value` into `T` with its own error type.
//!    serde_json's own `Value` deserializer would do, but its errors format
//!    serde's `Unexpected` through a path that links core's f64 `Display`
//!    (about 17 KB of wasm). The messages here are serde_json's, word for word
//!    ("missing field `name`", "invalid type: string \"x\", expected i64").

use serde::de::{self, DeserializeOwned, Deserializer, IntoDeserializer, Unexpected, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::fmt;

/// Whole numbers without a trailing `.0`, others as JSON writes them. Use it
/// for a float in a message: `{}` on f64 links core's float printing (~14 KB).
pub fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        (value as i64).to_string()
    } else {
        serde_json::to_string(&value).unwrap_or_default()
    }
}

/// A decimal number in Rust's syntax (`12.5`, `+1`, `.5`, `1.`, `007`, `1e3`),
/// as `str::parse::<f64>` reads it but without linking core's dec2flt (about
/// 15 KB of wasm gzip): the text is rewritten in JSON's syntax and read by
/// serde_json's parser, which the module has anyway. Bit for bit the same for
/// plain decimals of up to 15 significant digits (what Enedis sends); longer
/// ones or exponents may differ in the last bit. `inf`/`nan` are `None`.
pub fn parse_f64(text: &str) -> Option<f64> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    let int = int.trim_start_matches('0');
    let mut json = String::with_capacity(text.len() + 2);
    json.push_str(if int.is_empty() { "0" } else { int });
    if !frac.is_empty() {
        json.push('.');
        json.push_str(frac);
    }
    if let Some(exponent) = exponent {
        let unsigned = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        if unsigned.is_empty() || !digits(unsigned) {
            return None;
        }
        json.push('e');
        json.push_str(exponent);
    }
    // The sign is applied after, so that `-0` stays -0.0.
    let value = parse_value(&json).ok()?.as_f64()?;
    Some(if negative { -value } else { value })
}

/// Why JSON text did not become the wanted value.
#[derive(Debug)]
pub enum JsonError {
    /// The text is not JSON (serde_json's syntax or end-of-input error).
    Text(serde_json::Error),
    /// The JSON does not fit the type: a missing field, a wrong type. Names
    /// fields and types; like serde_json, it quotes a string found where
    /// another type was expected.
    Data(String),
}

impl JsonError {
    /// The text stops in the middle (truncated answer).
    pub fn is_eof(&self) -> bool {
        matches!(self, JsonError::Text(err) if err.is_eof())
    }

    /// Valid JSON that does not fit the type.
    pub fn is_data(&self) -> bool {
        match self {
            JsonError::Text(err) => err.is_data(),
            JsonError::Data(_) => true,
        }
    }

    /// The reason for a person, without serde_json's " at line 1 column 42".
    pub fn reason(&self) -> String {
        match self {
            JsonError::Text(err) => super::error::json_reason(err),
            JsonError::Data(message) => message.clone(),
        }
    }
}

/// Parse JSON text into `T` (see the module comment for why in two steps).
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    from_value(parse_value(text)?)
}

/// Step 1 alone: JSON text to a `Value`.
pub fn parse_value(text: &str) -> Result<Value, JsonError> {
    serde_json::from_str(text).map_err(JsonError::Text)
}

/// Step 2 alone: a `Value` to `T`. The only step compiled once per type, so
/// callers keep their checks and messages outside of it.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, JsonError> {
    T::deserialize(ValueDeserializer(value)).map_err(|DataError(message)| JsonError::Data(message))
}

/// Read an object into `T` and keep its other entries, as `#[serde(flatten)]`
/// on a map would: `known` lists `T`'s fields as they are spelled in JSON.
/// `flatten` (and `untagged`) buffer every value through serde's `Content`,
/// about 3 KB of wasm for the module; this reuses what is already there.
pub fn with_rest<'de, D, T>(deserializer: D, known: &[&str]) -> Result<(T, Map<String, Value>), D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    // Split by moving entries into two new maps: BTreeMap::remove would bring
    // its node rebalancing code (~4 KB of wasm) for this alone.
    let (mut fields, mut rest) = (Map::new(), Map::new());
    for (key, value) in Map::<String, Value>::deserialize(deserializer)? {
        let side = if known.contains(&key.as_str()) { &mut fields } else { &mut rest };
        side.insert(key, value);
    }
    let known = from_value(Value::Object(fields)).map_err(|err| de::Error::custom(err.reason()))?;
    Ok((known, rest))
}

/// The error of [`ValueDeserializer`]: just the message.
#[derive(Debug)]
pub struct DataError(String);

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DataError {}

impl de::Error for DataError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        DataError(message.to_string())
    }

    fn invalid_type(unexpected: Unexpected, expected: &dyn de::Expected) -> Self {
        DataError(format!("invalid type: {}, expected {expected}", Shown(unexpected)))
    }

    fn invalid_value(unexpected: Unexpected, expected: &dyn de::Expected) -> Self {
        DataError(format!("invalid value: {}, expected {expected}", Shown(unexpected)))
    }
}

/// `Unexpected` worded as serde_json words it, every variant spelled out:
/// falling back to serde's own `Display` would link the f64 formatter again.
struct Shown<'a>(Unexpected<'a>);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Unexpected::Bool(b) => write!(f, "boolean `{b}`"),
            Unexpected::Unsigned(n) => write!(f, "integer `{n}`"),
            Unexpected::Signed(n) => write!(f, "integer `{n}`"),
            // serde_json's shortest round-trip form (`1.0`, `1e20`); JSON numbers are finite.
            Unexpected::Float(x) => match serde_json::Number::from_f64(x) {
                Some(number) => write!(f, "floating point `{number}`"),
                None => f.write_str("floating point"),
            },
            Unexpected::Char(c) => write!(f, "character `{c}`"),
            Unexpected::Str(s) => write!(f, "string {s:?}"),
            Unexpected::Bytes(_) => f.write_str("byte array"),
            Unexpected::Unit => f.write_str("null"),
            Unexpected::Option => f.write_str("Option value"),
            Unexpected::NewtypeStruct => f.write_str("newtype struct"),
            Unexpected::Seq => f.write_str("sequence"),
            Unexpected::Map => f.write_str("map"),
            Unexpected::Enum => f.write_str("enum"),
            Unexpected::UnitVariant => f.write_str("unit variant"),
            Unexpected::NewtypeVariant => f.write_str("newtype variant"),
            Unexpected::TupleVariant => f.write_str("tuple variant"),
            Unexpected::StructVariant => f.write_str("struct variant"),
            Unexpected::Other(other) => f.write_str(other),
        }
    }
}

/// A `serde_json::Value` as a serde `Deserializer`, behaving as serde_json's
/// own (`Value` is `Deserializer<Error = serde_json::Error>` only).
pub struct ValueDeserializer(pub Value);

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Unexpected::Unsigned(u),
            (None, Some(i)) => Unexpected::Signed(i),
            _ => Unexpected::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

impl<'de> IntoDeserializer<'de, DataError> for ValueDeserializer {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl ValueDeserializer {
    fn invalid<'de, V: Visitor<'de>, T>(&self, visitor: &V) -> Result<T, DataError> {
        Err(de::Error::invalid_type(unexpected(&self.0), visitor))
    }
}

fn visit_number<'de, V: Visitor<'de>>(n: &serde_json::Number, visitor: V) -> Result<V::Value, DataError> {
    match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => visitor.visit_u64(u),
        (None, Some(i)) => visitor.visit_i64(i),
        _ => visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN)),
    }
}

fn visit_array<'de, V: Visitor<'de>>(items: Vec<Value>, visitor: V) -> Result<V::Value, DataError> {
    let len = items.len();
    let mut seq = SeqAccess(items.into_iter());
    let value = visitor.visit_seq(&mut seq)?;
    match seq.0.len() {
        0 => Ok(value),
        _ => Err(de::Error::invalid_length(len, &"fewer elements in array")),
    }
}

/// Numbers: one match for every integer and float width (the visitor checks the range).
macro_rules! deserialize_numbers {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
            match &self.0 {
                Value::Number(n) => visit_number(n, visitor),
                _ => self.invalid(&visitor),
            }
        }
    )*};
}

// The typed methods accept only their own kind of value, as serde_json's do:
// `deserialize_any` compiled for each of the many visitors would cost more.
impl<'de> Deserializer<'de> for ValueDeserializer {
    type Error = DataError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(n) => visit_number(&n, visitor),
            Value::String(s) => visitor.visit_string(s),
            Value::Array(items) => visit_array(items, visitor),
            Value::Object(map) => visit_object(map, visitor),
        }
    }

    deserialize_numbers! { deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32 deserialize_f64 }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        match self.0 {
            Value::Bool(b) => visitor.visit_bool(b),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        match self.0 {
            Value::String(s) => visitor.visit_string(s),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        match self.0 {
            Value::Array(items) => visit_array(items, visitor),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DataError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        match self.0 {
            Value::Object(map) => visit_object(map, visitor),
            _ => self.invalid(&visitor),
        }
    }

    /// An object only. serde_json also reads a struct from an array of its
    /// fields in order; nothing we read is written that way, and refusing it
    /// lets the linker drop every struct's `visit_seq` (~10 KB of wasm gzip).
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DataError> {
        match self.0 {
            Value::Object(map) => visit_object(map, visitor),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, DataError> {
        visitor.visit_newtype_struct(self)
    }

    /// `"Variant"` for a unit variant, `{"Variant": data}` for the others.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DataError> {
        match self.0 {
            Value::String(variant) => visitor.visit_enum(variant.into_deserializer()),
            Value::Object(map) if map.len() == 1 => {
                visitor.visit_enum(de::value::MapAccessDeserializer::new(MapAccess { entries: map.into_iter(), value: None }))
            }
            Value::Object(_) => Err(de::Error::invalid_value(Unexpected::Map, &"map with a single key")),
            other => Err(de::Error::invalid_type(unexpected(&other), &"string or map")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char bytes byte_buf unit_struct tuple_struct
    }
}

fn visit_object<'de, V: Visitor<'de>>(map: Map<String, Value>, visitor: V) -> Result<V::Value, DataError> {
    let len = map.len();
    let mut access = MapAccess { entries: map.into_iter(), value: None };
    let value = visitor.visit_map(&mut access)?;
    match access.entries.len() {
        0 => Ok(value),
        _ => Err(de::Error::invalid_length(len, &"fewer elements in map")),
    }
}

struct SeqAccess(std::vec::IntoIter<Value>);

impl<'de> de::SeqAccess<'de> for SeqAccess {
    type Error = DataError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, DataError> {
        self.0.next().map(|value| seed.deserialize(ValueDeserializer(value))).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct MapAccess {
    entries: serde_json::map::IntoIter,
    value: Option<Value>,
}

impl<'de> de::MapAccess<'de> for MapAccess {
    type Error = DataError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DataError> {
        let Some((key, value)) = self.entries.next() else { return Ok(None) };
        self.value = Some(value);
        seed.deserialize(KeyDeserializer(key)).map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DataError> {
        match self.value.take() {
            Some(value) => seed.deserialize(ValueDeserializer(value)),
            None => Err(de::Error::custom("value is missing")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// An object key: a string, or a number written as one (as serde_json reads
/// `BTreeMap<i64, _>` keys, which the outbox and the Weheat history use).
struct KeyDeserializer(String);

impl KeyDeserializer {
    fn integer<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        match (self.0.parse::<i64>(), self.0.parse::<u64>()) {
            (Ok(n), _) => visitor.visit_i64(n),
            (_, Ok(n)) => visitor.visit_u64(n),
            _ => Err(de::Error::invalid_type(Unexpected::Str(&self.0), &visitor)),
        }
    }
}

impl<'de> Deserializer<'de> for KeyDeserializer {
    type Error = DataError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        visitor.visit_string(self.0)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        self.integer(visitor)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        self.integer(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        self.integer(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        self.integer(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i128 u8 u16 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Sample {
        name: String,
        count: Option<i64>,
        #[serde(default)]
        tags: Vec<String>,
        ratio: Option<f64>,
        kind: Option<Kind>,
        #[serde(flatten)]
        rest: BTreeMap<String, Value>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Plain {
        a: String,
        b: Option<u8>,
        #[serde(default)]
        c: Option<()>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Plain,
        Wrapped(u8),
    }

    /// Messages and results must be those of serde_json's own `from_str`.
    fn same_as_serde_json<T: DeserializeOwned + PartialEq + std::fmt::Debug>(text: &str) {
        let ours = parse::<T>(text).map_err(|e| e.reason());
        let theirs = serde_json::from_str::<T>(text).map_err(|e| super::super::error::json_reason(&e));
        assert_eq!(ours, theirs, "{text}");
    }

    #[test]
    fn results_and_messages_match_serde_json() {
        for text in [
            r#"{"name":"a","count":3,"tags":["x"],"ratio":1,"kind":"plain","extra":{"k":[1,2.5,null,true]}}"#,
            r#"{"name":"a","kind":{"wrapped":7}}"#,
            r#"{"count":3}"#,
            r#"{"name":5}"#,
            r#"{"name":"a","count":1.5}"#,
            r#"{"name":"a","count":1e20}"#,
            r#"{"name":"a","count":"12"}"#,
            r#"{"name":"a","count":-1}"#,
            r#"{"name":"a","count":18446744073709551615}"#,
            r#"{"name":"a","tags":[1]}"#,
            r#"{"name":"a","tags":{}}"#,
            r#"{"name":"a","ratio":true}"#,
            r#"{"name":null}"#,
            r#"{"name":"a","kind":"other"}"#,
            r#"{"name":"a","kind":{"wrapped":300}}"#,
            r#""text""#,
        ] {
            same_as_serde_json::<Sample>(text);
        }
        same_as_serde_json::<Vec<Option<f64>>>("[1, null, 2.5, -3]");
        same_as_serde_json::<BTreeMap<String, u8>>(r#"{"a": 1, "b": 256}"#);
        same_as_serde_json::<char>(r#""ab""#);
        // Where serde_json reads a struct from an array, we refuse it.
        for text in [r#"["x", 1]"#, r#"["x"]"#, r#"["a", 1]"#] {
            assert_eq!(parse::<Plain>(text).unwrap_err().reason(), "invalid type: sequence, expected struct Plain");
        }
        for text in [r#"{"a":"x","b":true}"#, r#"{"a":"x","b":null,"c":{}}"#, "true", "null"] {
            same_as_serde_json::<Plain>(text);
        }
        // Where serde_json's text parser gives a syntax-like message for a
        // misplaced enum, its Value deserializer (and this one) say what is wrong.
        for text in [r#"{"name":"a","kind":3}"#, r#"{"name":"a","kind":{"a":1,"b":2}}"#] {
            let value: Value = serde_json::from_str(text).unwrap();
            let theirs = serde_json::from_value::<Sample>(value).unwrap_err().to_string();
            assert_eq!(parse::<Sample>(text).unwrap_err().reason(), theirs);
        }
    }

    #[test]
    fn decimals_read_as_str_parse_reads_them() {
        for text in ["0", "-0", "12", "+12", "007", "12.5", "-12.50", ".5", "5.", "1e3", "1E+3", "2.5e-3", "123456789012345", "0.1", "3.14159", "1e400", "1e-400"] {
            let theirs = text.parse::<f64>().ok().filter(|v| v.is_finite());
            let ours = parse_f64(text);
            assert_eq!(ours.map(f64::to_bits), theirs.map(f64::to_bits), "{text}");
        }
        for text in ["", "-", "+", ".", "e3", "1e", "1e+", "1.2.3", "1,5", " 1", "0x10", "inf", "NaN", "--1", "1_000"] {
            assert_eq!(parse_f64(text), None, "{text}");
        }
    }

    #[test]
    fn text_errors_keep_their_kind() {
        let truncated = parse::<Value>(r#"{"name":"ab"#).unwrap_err();
        assert!(truncated.is_eof() && !truncated.is_data());
        let garbage = parse::<Value>("<html>").unwrap_err();
        assert!(!garbage.is_eof() && !garbage.is_data());
        assert_eq!(garbage.reason(), "expected value");
        assert!(parse::<Sample>("{}").unwrap_err().is_data());
    }
}

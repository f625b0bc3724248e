//! Lenient deserialization of the typed model: a value of an unexpected JSON type becomes
//! `None`, never an error, so one odd field cannot cost an event its typed view.
//!
//! Numbers need care because the crate keeps every number exactly as sent (serde_json's
//! `arbitrary_precision`): a number that no primitive holds exactly (`1.50`, `1e+2`,
//! `1e+400`, integers past 128 bits) reaches a visitor as a one-entry map whose key is
//! serde_json's private [`NUMBER_TOKEN`] and whose value is the number's text. Every
//! visitor here recognizes that map: numeric ones read the text, the others see a number
//! where they wanted something else and answer `None`.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{BorrowedStrDeserializer, MapAccessDeserializer, StringDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// The key serde_json (`arbitrary_precision`) uses to pass a number's text through a map.
/// Private to serde_json but unchanged since the feature exists; the tests below fail if
/// it ever changes.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// A type that can be read from any JSON value, yielding `None` when the value does not fit.
pub(crate) trait LenientDe: Sized {
    /// Reads `Self` from `d`; `Ok(None)` on a type mismatch. Errors only come from the
    /// underlying deserializer itself (which, for a `serde_json::Value`, does not fail).
    fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error>;
}

/// `deserialize_with` helper for every optional model field.
pub(crate) fn opt<'de, D: Deserializer<'de>, T: LenientDe>(d: D) -> Result<Option<T>, D::Error> {
    T::lenient(d)
}

/// Wrapper used for list elements.
struct Elem<T>(Option<T>);

impl<'de, T: LenientDe> Deserialize<'de> for Elem<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::lenient(d).map(Elem)
    }
}

/// A map key, borrowed from the input when the deserializer allows it (it does for the
/// `serde_json::Value` the model is read from, so peeking at a key costs no allocation).
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyV;
        impl<'de> Visitor<'de> for KeyV {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyV)
    }
}

/// What a map handed to a visitor turned out to be.
enum MapKind<'de, A> {
    /// serde_json's carrier of a number's text.
    Number(String),
    /// A JSON object; its first key was read already and is handed back by [`Replay`].
    Object(Replay<'de, A>),
}

/// Reads the first key of `map` to tell a number carrier from a real object.
fn classify<'de, A: MapAccess<'de>>(mut map: A) -> Result<MapKind<'de, A>, A::Error> {
    match map.next_key::<Key<'de>>()? {
        Some(Key(k)) if k == NUMBER_TOKEN => {
            let text = map.next_value::<String>()?;
            drain_map(map)?;
            Ok(MapKind::Number(text))
        }
        first => Ok(MapKind::Object(Replay {
            first: first.map(|k| k.0),
            rest: map,
        })),
    }
}

/// A map whose first key was already read: yields that key again, then the rest.
struct Replay<'de, A> {
    first: Option<Cow<'de, str>>,
    rest: A,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Replay<'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        match self.first.take() {
            Some(Cow::Borrowed(k)) => seed.deserialize(BorrowedStrDeserializer::new(k)).map(Some),
            Some(Cow::Owned(k)) => seed.deserialize(StringDeserializer::new(k)).map(Some),
            None => self.rest.next_key_seed(seed),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.rest.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.rest.size_hint()
    }
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// The visitor methods every lenient visitor shares: null and booleans never fit.
macro_rules! mismatch_none {
    () => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    };
}

/// A number where a string, list or object belongs: `None`.
macro_rules! number_none {
    () => {
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i128<E: de::Error>(self, _: i128) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u128<E: de::Error>(self, _: u128) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
    };
}

/// A string where a number, list or object belongs: `None`.
macro_rules! str_none {
    () => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
    };
}

/// A list where a scalar or object belongs: consumed, `None`.
macro_rules! seq_none {
    () => {
        fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<Self::Value, A::Error> {
            drain_seq(s).map(|_| None)
        }
    };
}

/// A map where a scalar belongs: a number carrier goes to `visit_number_text`, an object
/// is consumed and gives `None`.
macro_rules! map_as_number {
    () => {
        fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<Self::Value, A::Error> {
            match classify(m)? {
                MapKind::Number(text) => Ok(Self::from_number_text(&text)),
                MapKind::Object(rest) => drain_map(rest).map(|_| None),
            }
        }
    };
}

struct StrV;
impl StrV {
    fn from_number_text(_: &str) -> Option<String> {
        None
    }
}
impl<'de> Visitor<'de> for StrV {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    mismatch_none!();
    number_none!();
    seq_none!();
    map_as_number!();
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
}

impl LenientDe for String {
    fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
        d.deserialize_any(StrV)
    }
}

/// Whole `f64` values in `i64`'s range as `i64`.
fn whole(v: f64) -> Option<i64> {
    let whole = v.fract() == 0.0 && v >= i64::MIN as f64 && v < i64::MAX as f64;
    whole.then_some(v as i64)
}

/// Integers: JSON integers, whole floats, and decimal strings (`"ErrCode": "70000"`).
struct IntV;
impl IntV {
    fn from_number_text(text: &str) -> Option<i64> {
        text.parse::<i64>()
            .ok()
            .or_else(|| text.parse::<f64>().ok().and_then(whole))
    }
}
impl<'de> Visitor<'de> for IntV {
    type Value = Option<i64>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    mismatch_none!();
    seq_none!();
    map_as_number!();
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.trim().parse::<i64>().ok())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).ok())
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).ok())
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).ok())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(whole(v))
    }
}

impl LenientDe for i64 {
    fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
        d.deserialize_any(IntV)
    }
}

/// Floats: any finite JSON number (`"Duration": 60` is common) and decimal strings.
struct FloatV;
impl FloatV {
    fn from_number_text(text: &str) -> Option<f64> {
        text.parse::<f64>().ok().filter(|f| f.is_finite())
    }
}
impl<'de> Visitor<'de> for FloatV {
    type Value = Option<f64>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    mismatch_none!();
    seq_none!();
    map_as_number!();
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Self::from_number_text(v.trim()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
}

impl LenientDe for f64 {
    fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
        d.deserialize_any(FloatV)
    }
}

/// Lists: a JSON array; elements that do not fit are skipped.
struct SeqV<T>(PhantomData<T>);
impl<T> SeqV<T> {
    fn from_number_text(_: &str) -> Option<Vec<T>> {
        None
    }
}
impl<'de, T: LenientDe> Visitor<'de> for SeqV<T> {
    type Value = Option<Vec<T>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    mismatch_none!();
    number_none!();
    str_none!();
    map_as_number!();
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(s.size_hint().unwrap_or(0).min(64));
        while let Some(Elem(e)) = s.next_element::<Elem<T>>()? {
            out.extend(e);
        }
        Ok(Some(out))
    }
}

impl<T: LenientDe> LenientDe for Vec<T> {
    fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
        d.deserialize_any(SeqV::<T>(PhantomData))
    }
}

/// Booleans (`IsDetected`); anything else is `None`.
impl LenientDe for bool {
    fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
        Ok(match serde_json::Value::deserialize(d)? {
            serde_json::Value::Bool(b) => Some(b),
            _ => None,
        })
    }
}

/// Arbitrary JSON kept as is (AI result contents, undocumented sub-objects).
impl LenientDe for serde_json::Value {
    fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
        serde_json::Value::deserialize(d).map(|v| (!v.is_null()).then_some(v))
    }
}

/// Objects: a JSON object read with the type's (all-lenient) derived impl; else `None`.
pub(crate) struct ObjV<T>(pub(crate) PhantomData<T>);
impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjV<T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    mismatch_none!();
    number_none!();
    str_none!();
    seq_none!();
    fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<Self::Value, A::Error> {
        match classify(m)? {
            // A number where an object belongs (without this check the derived impl
            // would ignore the unknown token key and produce an empty object).
            MapKind::Number(_) => Ok(None),
            MapKind::Object(m) => T::deserialize(MapAccessDeserializer::new(m)).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[derive(Debug, Default, PartialEq, Deserialize)]
    struct Obj {
        #[serde(default, deserialize_with = "opt")]
        a: Option<i64>,
    }

    impl LenientDe for Obj {
        fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
            d.deserialize_any(ObjV::<Obj>(PhantomData))
        }
    }

    fn v(text: &str) -> Value {
        serde_json::from_str(text).unwrap_or(Value::Null)
    }

    #[test]
    fn exact_numbers_reach_numeric_fields() {
        // Each of these reaches the visitor as serde_json's number carrier, not a float.
        for (text, int, float) in [
            ("1.50", None, Some(1.5)),
            ("60.00", Some(60), Some(60.0)),
            ("1E2", Some(100), Some(100.0)),
            ("-0", Some(0), Some(-0.0)),
            (
                "123456789012345678901234567890",
                None,
                Some(1.2345678901234568e29),
            ),
            ("1e400", None, None),
        ] {
            let n = v(text);
            assert!(n.is_number(), "{text}");
            assert_eq!(i64::lenient(&n).ok().flatten(), int, "{text}");
            assert_eq!(f64::lenient(&n).ok().flatten(), float, "{text}");
            assert_eq!(String::lenient(&n).ok().flatten(), None, "{text}");
            assert_eq!(Vec::<i64>::lenient(&n).ok().flatten(), None, "{text}");
            assert_eq!(Obj::lenient(&n).ok().flatten(), None, "{text}");
        }
        // 128-bit integers come through visit_u128 / visit_i128.
        let big = v("18446744073709551616");
        assert_eq!(i64::lenient(&big).ok().flatten(), None);
        assert_eq!(
            f64::lenient(&big).ok().flatten(),
            Some(18446744073709551616.0)
        );
    }

    #[test]
    fn objects_still_read_after_the_first_key_was_peeked() {
        let o = v(r#"{"a": 1.0e1, "b": [1]}"#);
        assert_eq!(Obj::lenient(&o).ok().flatten(), Some(Obj { a: Some(10) }));
        let empty = v("{}");
        assert_eq!(Obj::lenient(&empty).ok().flatten(), Some(Obj { a: None }));
        // From text too (keys may then arrive owned rather than borrowed).
        let from_text: Result<Obj, _> = serde_json::from_str(r#"{"a":"7"}"#);
        assert_eq!(from_text.ok(), Some(Obj { a: Some(7) }));
        // An object where a scalar belongs is consumed and gives None.
        assert_eq!(i64::lenient(&o).ok().flatten(), None);
    }
}

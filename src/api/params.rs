//! Request parameters the way Mastodon (a Rails app) accepts them: the query
//! string merged with a JSON, urlencoded or multipart body; Rails-style
//! brackets (`fields_attributes[0][name]`, `media_ids[]`); booleans as
//! "1"/"0"/"true"; numbers as strings. Handlers get one typed struct.
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::error::ApiError;

/// Brackets one parameter name may nest (`a[b][0][c]` is 3). Rails allows
/// 100; our deepest real parameter (`fields_attributes[0][name]`) needs 2.
/// Bounded so that no request can recurse the decoder off its stack.
pub const MAX_DEPTH: usize = 8;
/// Parameters one request may carry (query string and body together).
pub const MAX_PARAMS: usize = 1000;

/// Why a parameter could not be taken.
#[derive(Debug, PartialEq, Eq)]
pub enum ParamError {
    TooDeep,
    TooMany,
}

impl From<ParamError> for ApiError {
    fn from(e: ParamError) -> ApiError {
        ApiError::bad_request(match e {
            ParamError::TooDeep => {
                format!("A parameter name nests more than {MAX_DEPTH} brackets")
            }
            ParamError::TooMany => format!("More than {MAX_PARAMS} parameters"),
        })
    }
}

/// Collects decoded pairs into the nested parameter map, counting them.
#[derive(Default)]
struct Collector {
    root: Map<String, Value>,
    count: usize,
}

impl Collector {
    fn tick(&mut self) -> Result<(), ParamError> {
        self.count += 1;
        if self.count > MAX_PARAMS {
            return Err(ParamError::TooMany);
        }
        Ok(())
    }

    fn add(&mut self, key: &str, value: String) -> Result<(), ParamError> {
        self.tick()?;
        insert_pair(&mut self.root, key, Value::String(value))
    }
}

/// A file from a multipart body. Its declared name and type are kept only
/// for logs: services decide what the bytes are.
#[derive(Debug)]
pub struct Upload {
    pub field: String,
    pub bytes: Vec<u8>,
}

pub struct Params<T> {
    pub value: T,
    pub uploads: Vec<Upload>,
}

impl<T> Params<T> {
    pub fn take_upload(&mut self, field: &str) -> Option<Vec<u8>> {
        let i = self.uploads.iter().position(|u| u.field == field)?;
        Some(self.uploads.swap_remove(i).bytes)
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let mut params = Collector::default();
        if let Some(q) = req.uri().query() {
            for (k, v) in form_urlencoded::parse(q.as_bytes()) {
                params.add(&k, v.into_owned())?;
            }
        }
        let ctype = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mut uploads = Vec::new();
        if ctype.starts_with("multipart/form-data") {
            let mut mp = Multipart::from_request(req, state)
                .await
                .map_err(|e| ApiError::bad_request(format!("Malformed multipart body: {e}")))?;
            while let Some(field) = mp
                .next_field()
                .await
                .map_err(|e| multipart_error(e.status(), e.body_text()))?
            {
                let name = field.name().unwrap_or_default().to_owned();
                if field.file_name().is_some() {
                    params.tick()?;
                    let bytes = field
                        .bytes()
                        .await
                        .map_err(|e| multipart_error(e.status(), e.body_text()))?;
                    uploads.push(Upload {
                        field: name,
                        bytes: bytes.to_vec(),
                    });
                } else {
                    let text = field
                        .text()
                        .await
                        .map_err(|e| multipart_error(e.status(), e.body_text()))?;
                    params.add(&name, text)?;
                }
            }
        } else {
            let body = Bytes::from_request(req, state)
                .await
                .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
            let looks_json = ctype.contains("json")
                || (ctype.is_empty() && body.trim_ascii_start().starts_with(b"{"));
            if body.trim_ascii().is_empty() {
                // No body: the query string is everything.
            } else if looks_json {
                match serde_json::from_slice::<Value>(&body) {
                    Ok(Value::Object(obj)) => params.root.extend(obj),
                    Ok(_) => {
                        return Err(ApiError::bad_request(
                            "The request body must be a JSON object",
                        ));
                    }
                    Err(e) => {
                        return Err(ApiError::bad_request(format!(
                            "Malformed JSON in the request body: {e}"
                        )));
                    }
                }
            } else if ctype.is_empty() || ctype.starts_with("application/x-www-form-urlencoded") {
                for (k, v) in form_urlencoded::parse(&body) {
                    params.add(&k, v.into_owned())?;
                }
            } else {
                return Err(ApiError::new(
                    axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!(
                        "Unsupported content type {ctype:?}: send JSON, a form or multipart data"
                    ),
                ));
            }
        }
        let root = Value::Object(params.root);
        if let Some(path) = nul_at(&root, String::new()) {
            // PostgreSQL text cannot hold NUL, and no person types one.
            return Err(ApiError::invalid_param(&path, "contains a NUL character"));
        }
        let value = typed(root)?;
        Ok(Params { value, uploads })
    }
}

/// A whole number given as text (query strings and forms); absent or empty:
/// none.
pub fn number<T: std::str::FromStr>(name: &str, v: Option<String>) -> Result<Option<T>, ApiError> {
    match v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid_param(name, "must be a whole number")),
    }
}

/// Parameters as a type, an error naming the parameter that did not fit.
pub fn typed<T: DeserializeOwned>(root: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(root).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            ApiError::unprocessable(format!("Invalid parameters: {inner}"))
        } else {
            ApiError::invalid_param(&path, inner)
        }
    })
}

/// Forms send lists as `a[0]=..&a[1]=..` (an object keyed by index): each
/// such object becomes the array it stands for, at any depth.
pub fn with_sequences(v: Value) -> Value {
    match v {
        Value::Object(o) if !o.is_empty() && o.keys().all(|k| k.parse::<usize>().is_ok()) => {
            let mut entries: Vec<(usize, Value)> = o
                .into_iter()
                .map(|(k, v)| (k.parse().unwrap_or(0), with_sequences(v)))
                .collect();
            entries.sort_by_key(|(k, _)| *k);
            Value::Array(entries.into_iter().map(|(_, v)| v).collect())
        }
        Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, v)| (k, with_sequences(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(with_sequences).collect()),
        other => other,
    }
}

fn multipart_error(status: axum::http::StatusCode, text: String) -> ApiError {
    ApiError::new(status, format!("Malformed multipart body: {text}"))
}

/// Splits `a[b][0][]` into `["a", "b", "0", ""]`; refuses more than
/// [`MAX_DEPTH`] brackets.
fn key_path(key: &str) -> Result<Vec<&str>, ParamError> {
    let (base, mut rest) = match key.find('[') {
        Some(i) if key.ends_with(']') => (&key[..i], &key[i..]),
        _ => return Ok(vec![key]),
    };
    let mut out = vec![base];
    while let Some(stripped) = rest.strip_prefix('[') {
        match stripped.find(']') {
            Some(end) => {
                if out.len() > MAX_DEPTH {
                    return Err(ParamError::TooDeep);
                }
                out.push(&stripped[..end]);
                rest = &stripped[end + 1..];
            }
            None => return Ok(vec![key]),
        }
    }
    Ok(out)
}

/// Inserts one decoded pair into the nested parameter map, Rails-style.
pub fn insert_pair(
    root: &mut Map<String, Value>,
    key: &str,
    value: Value,
) -> Result<(), ParamError> {
    let path = key_path(key)?;
    insert_path(root, &path, value);
    Ok(())
}

fn insert_path(map: &mut Map<String, Value>, path: &[&str], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        map.insert((*first).to_owned(), value);
        return;
    }
    if rest[0].is_empty() {
        // `a[]=x` appends; `a[][k]=v` fills the last object until a key repeats.
        let entry = map
            .entry((*first).to_owned())
            .or_insert_with(|| Value::Array(vec![]));
        if !entry.is_array() {
            *entry = Value::Array(vec![]);
        }
        let Value::Array(list) = entry else { return };
        if rest.len() == 1 {
            list.push(value);
            return;
        }
        let needs_new = match list.last() {
            Some(Value::Object(o)) => o.contains_key(rest[1]),
            _ => true,
        };
        if needs_new {
            list.push(Value::Object(Map::new()));
        }
        if let Some(Value::Object(o)) = list.last_mut() {
            insert_path(o, &rest[1..], value);
        }
        return;
    }
    let entry = map
        .entry((*first).to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    if let Value::Object(o) = entry {
        insert_path(o, rest, value);
    }
}

/// Lenient field deserialisers for `#[serde(deserialize_with = ...)]`.
pub mod de {
    use serde::de::{DeserializeOwned, Error};
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    fn to_bool<E: Error>(v: &Value) -> Result<Option<bool>, E> {
        match v {
            Value::Null => Ok(None),
            Value::Bool(b) => Ok(Some(*b)),
            Value::Number(n) => Ok(Some(n.as_f64().unwrap_or(0.0) != 0.0)),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "" => Ok(None),
                "1" | "true" | "t" | "on" | "yes" => Ok(Some(true)),
                "0" | "false" | "f" | "off" | "no" => Ok(Some(false)),
                other => Err(E::custom(format!("{other:?} is not a boolean"))),
            },
            _ => Err(E::custom("expected a boolean")),
        }
    }

    pub fn bool_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        to_bool(&Value::deserialize(d)?)
    }

    pub fn bool_or_false<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        Ok(to_bool(&Value::deserialize(d)?)?.unwrap_or(false))
    }

    /// Strings, numbers (ids sent as JSON numbers) or null.
    pub fn string_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            Value::Number(n) => Ok(Some(n.to_string())),
            Value::Bool(b) => Ok(Some(b.to_string())),
            _ => Err(D::Error::custom("expected a string")),
        }
    }

    /// A list given as an array, as an index-keyed object (`a[0]=..&a[1]=..`)
    /// or as a single value.
    pub fn seq_opt<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: DeserializeOwned,
    {
        let items = match Value::deserialize(d)? {
            Value::Null => return Ok(None),
            Value::Array(a) => a,
            Value::Object(o) => {
                let mut entries: Vec<(String, Value)> = o.into_iter().collect();
                entries.sort_by_key(|(k, _)| (k.len(), k.clone()));
                entries.into_iter().map(|(_, v)| v).collect()
            }
            single => vec![single],
        };
        items
            .into_iter()
            .map(|v| serde_json::from_value(v).map_err(D::Error::custom))
            .collect::<Result<Vec<T>, _>>()
            .map(Some)
    }

    /// Redirect URIs: an array, or one string with several separated by whitespace.
    pub fn uri_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Null => vec![],
            Value::String(s) => s.split_whitespace().map(str::to_owned).collect(),
            Value::Array(a) => a
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .flat_map(|s| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
                .collect(),
            _ => return Err(D::Error::custom("expected a string or a list of strings")),
        })
    }

    /// Scopes: a space-separated string or an array of strings.
    pub fn scope_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Null => None,
            Value::String(s) => Some(s),
            Value::Array(a) => Some(
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            _ => return Err(D::Error::custom("expected a string or a list of strings")),
        })
    }
}

/// The Rails-style name of the first parameter (or key) holding a NUL character.
fn nul_at(v: &Value, path: String) -> Option<String> {
    let name = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}[{key}]")
        }
    };
    match v {
        Value::String(s) if s.contains('\0') => Some(path),
        Value::Array(items) => items.iter().find_map(|i| nul_at(i, format!("{path}[]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(name(&k.replace('\0', "")))
            } else {
                nul_at(v, name(k))
            }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(pairs: &[(&str, &str)]) -> Value {
        let mut m = Map::new();
        for (k, v) in pairs {
            insert_pair(&mut m, k, Value::String((*v).into())).unwrap();
        }
        Value::Object(m)
    }

    #[test]
    fn rails_brackets() {
        assert_eq!(
            parse(&[
                ("fields_attributes[0][name]", "a"),
                ("fields_attributes[0][value]", "b"),
                ("fields_attributes[1][name]", "c"),
                ("media_ids[]", "1"),
                ("media_ids[]", "2"),
                ("source[privacy]", "unlisted"),
                ("plain", "x"),
                ("poll[options][]", "yes"),
                ("poll[options][]", "no"),
                ("broken[", "y"),
            ]),
            json!({
                "fields_attributes": {"0": {"name": "a", "value": "b"}, "1": {"name": "c"}},
                "media_ids": ["1", "2"],
                "source": {"privacy": "unlisted"},
                "plain": "x",
                "poll": {"options": ["yes", "no"]},
                "broken[": "y",
            })
        );
    }

    #[test]
    fn array_of_objects() {
        assert_eq!(
            parse(&[("f[][name]", "a"), ("f[][value]", "b"), ("f[][name]", "c")]),
            json!({"f": [{"name": "a", "value": "b"}, {"name": "c"}]})
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let mut m = Map::new();
        let ok = format!("a{}", "[x]".repeat(MAX_DEPTH));
        assert_eq!(insert_pair(&mut m, &ok, Value::Null), Ok(()));
        let deep = format!("a{}", "[x]".repeat(MAX_DEPTH + 1));
        assert_eq!(
            insert_pair(&mut m, &deep, Value::Null),
            Err(ParamError::TooDeep)
        );
        // The finding: 10,000 brackets used to recurse once each.
        let attack = format!("a{}", "[x]".repeat(10_000));
        assert_eq!(
            insert_pair(&mut m, &attack, Value::Null),
            Err(ParamError::TooDeep)
        );
    }

    #[test]
    fn nul_is_found_by_its_rails_name() {
        let v = serde_json::json!({"status": "ok", "poll": {"options": ["a", "b\0"]}});
        assert_eq!(
            nul_at(&v, String::new()).as_deref(),
            Some("poll[options][]")
        );
        assert_eq!(
            nul_at(&serde_json::json!({"q": "fine"}), String::new()),
            None
        );
    }
}

//! Fake SCF and CAM Cloud APIs for `deploy`, on two loopback endpoints sharing one account,
//! that VERIFY every request and keep state as the services do.
//!
//! Each request is checked by [`check_tc3`] with its endpoint's service in the scope (`scf`
//! 2018-04-16 or `cam` 2019-01-16), then its body against the official SDK's request models
//! (`sdk_models.json`, written by `sdk_models.py` from `tencentcloud-sdk-python`): every field
//! must be one the model has, of the model's type (nested structures too), and the fields
//! the API reference marks required must be present. A request that fails is answered with
//! the API's error and recorded in [`FakeDeployApi::verification_failures`].
//!
//! State: functions (`Creating` / `Updating` until a transition time has passed, then
//! `Active`, or `CreateFailed` with `StatusReasons` when told to), their code, configuration,
//! asynchronous retry settings and triggers; CAM roles, policies and attachments. Changes to
//! a function that is not `Active` are refused with SCF's `FailedOperation.*` codes and
//! recorded in [`FakeDeployApi::refusals`]. Verified requests may fail transiently first
//! (`RequestLimitExceeded` or `InternalError`, nothing applied) at a seeded rate.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::fake_cloudapi::{check_tc3, Tc3Expect};
use super::http::{serve_with, Reply, Request, Response, Server, Writes};
use super::seeded::{lock, Seeded};

/// How the fake is set up.
#[derive(Debug, Clone)]
pub struct FakeDeployOptions {
    /// Expected SecretId.
    pub secret_id: String,
    /// Key signatures are checked with.
    pub secret_key: String,
    /// Expected `X-TC-Token`.
    pub session_token: Option<String>,
    /// Expected `X-TC-Region`.
    pub region: String,
    /// How long `Creating` and `Updating` last.
    pub transition: Duration,
    /// Share of verified requests that fail transiently.
    pub transient_rate: f64,
    /// Share of changes that are applied and then answered `InternalError`, as when the
    /// answer is lost on the way back.
    pub lost_answer_rate: f64,
    /// Seed of the fault draws.
    pub seed: u64,
    /// Roles that exist before the test.
    pub roles: Vec<String>,
    /// Custom policies (by name, with an empty document) that exist before the test.
    pub policies: Vec<String>,
    /// When set, a created function ends `CreateFailed` with this `(ErrorCode, ErrorMessage)`.
    pub create_fails: Option<(String, String)>,
    /// The account's owner uin.
    pub owner_uin: String,
    /// The account's APPID (in Function URLs).
    pub appid: u64,
    /// When set, this action is refused with `InvalidParameterValue` and a message that
    /// quotes the value of `CALLBACK_TOKEN` it was sent, as some API messages quote input.
    pub echo_error: Option<String>,
}

impl Default for FakeDeployOptions {
    fn default() -> Self {
        FakeDeployOptions {
            secret_id: "AKIDfakeDeployer000000000000000000000".into(),
            secret_key: "fakeDeployerSecretKey00000000000".into(),
            session_token: Some("fakeDeployerSessionToken0000000000".into()),
            region: "ap-guangzhou".into(),
            transition: Duration::from_millis(300),
            transient_rate: 0.0,
            lost_answer_rate: 0.0,
            seed: 7,
            roles: Vec::new(),
            policies: Vec::new(),
            create_fails: None,
            owner_uin: "100000000001".into(),
            appid: 1_250_000_000,
            echo_error: None,
        }
    }
}

/// One request that passed verification, in order.
#[derive(Debug, Clone)]
pub struct Call {
    /// `scf` or `cam`.
    pub service: &'static str,
    /// The action.
    pub action: String,
    /// The parameters.
    pub body: Value,
    /// Whether it failed transiently (nothing applied).
    pub transient: bool,
    /// Whether it was applied but answered `InternalError`.
    pub lost: bool,
}

/// A function as the fake keeps it.
#[derive(Debug, Clone)]
pub struct Func {
    /// `Creating`, `Updating`, `Active`, `CreateFailed`.
    pub status: String,
    /// When a transition ends.
    pub ready_at: Instant,
    /// The code, `Code.ZipFile` / `ZipFile` as sent (base64).
    pub zip_base64: String,
    /// Runtime, Handler, Type, MemorySize, Timeout, Environment, Role, Description.
    pub config: Map<String, Value>,
    /// `AsyncTriggerConfig` when set.
    pub async_config: Option<Value>,
    /// Triggers in creation order.
    pub triggers: Vec<Trigger>,
}

/// A trigger as the fake keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    /// Name.
    pub name: String,
    /// Type.
    pub kind: String,
    /// `TriggerDesc` as sent.
    pub desc: String,
    /// Qualifier.
    pub qualifier: String,
    /// `OPEN` / `CLOSE` as sent.
    pub enable: String,
}

/// A CAM role.
#[derive(Debug, Clone)]
pub struct Role {
    /// Its trust policy.
    pub trust: Value,
    /// Attached policy ids.
    pub policies: Vec<u64>,
}

struct State {
    opts: FakeDeployOptions,
    rng: Seeded,
    models: Value,
    hosts: BTreeMap<&'static str, String>,
    calls: Vec<Call>,
    failures: Vec<String>,
    refusals: Vec<String>,
    requests: u64,
    functions: BTreeMap<(String, String), Func>,
    roles: BTreeMap<String, Role>,
    policies: BTreeMap<u64, (String, Value)>,
}

/// The running fake; stops when dropped.
pub struct FakeDeployApi {
    scf: Server,
    cam: Server,
    state: Arc<Mutex<State>>,
}

/// Fields the API reference marks required, per action (the SDK models do not say).
const REQUIRED: &[(&str, &[&str])] = &[
    ("GetFunction", &["FunctionName"]),
    ("CreateFunction", &["FunctionName", "Code"]),
    ("UpdateFunctionCode", &["FunctionName"]),
    ("UpdateFunctionConfiguration", &["FunctionName"]),
    (
        "UpdateFunctionEventInvokeConfig",
        &["AsyncTriggerConfig", "FunctionName"],
    ),
    ("ListTriggers", &["FunctionName"]),
    ("CreateTrigger", &["FunctionName", "TriggerName", "Type"]),
    ("UpdateTrigger", &["FunctionName", "TriggerName", "Type"]),
    ("GetRole", &[]),
    ("CreateRole", &["RoleName", "PolicyDocument"]),
    ("CreatePolicy", &["PolicyName", "PolicyDocument"]),
    ("AttachRolePolicy", &[]),
    ("GetUserAppId", &[]),
    ("ListAttachedRolePolicies", &[]),
    ("ListPolicies", &[]),
    ("GetPolicy", &["PolicyId"]),
    ("UpdatePolicy", &["PolicyId"]),
];

impl FakeDeployApi {
    /// Starts both endpoints.
    pub async fn start(opts: FakeDeployOptions) -> FakeDeployApi {
        let models: Value =
            serde_json::from_str(include_str!("sdk_models.json")).expect("sdk_models.json is JSON");
        let roles = opts
            .roles
            .iter()
            .map(|r| {
                (
                    r.clone(),
                    Role {
                        trust: json!({}),
                        policies: Vec::new(),
                    },
                )
            })
            .collect();
        let policies = opts
            .policies
            .iter()
            .enumerate()
            .map(|(i, name)| (500 + i as u64, (name.clone(), json!({}))))
            .collect();
        let state = Arc::new(Mutex::new(State {
            rng: Seeded::new(opts.seed),
            opts,
            models,
            hosts: BTreeMap::new(),
            calls: Vec::new(),
            failures: Vec::new(),
            refusals: Vec::new(),
            requests: 0,
            functions: BTreeMap::new(),
            roles,
            policies,
        }));
        let serve = |service: &'static str| {
            let state = state.clone();
            serve_with("127.0.0.1:0", Writes::from_env(), move |req| {
                let state = state.clone();
                async move { handle(&mut lock(&state), service, req) }
            })
        };
        let scf = serve("scf").await;
        let cam = serve("cam").await;
        {
            let mut st = lock(&state);
            st.hosts.insert("scf", scf.addr.to_string());
            st.hosts.insert("cam", cam.addr.to_string());
        }
        FakeDeployApi { scf, cam, state }
    }

    /// `DEPLOY_SCF_ENDPOINT`.
    pub fn scf_url(&self) -> String {
        self.scf.url()
    }

    /// `DEPLOY_CAM_ENDPOINT`.
    pub fn cam_url(&self) -> String {
        self.cam.url()
    }

    /// The options in force.
    pub fn options(&self) -> FakeDeployOptions {
        lock(&self.state).opts.clone()
    }

    /// Requests received (verified or not).
    pub fn requests(&self) -> u64 {
        lock(&self.state).requests
    }

    /// Verified requests, in order.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.state).calls.clone()
    }

    /// Actions applied (verified and not failed transiently), in order.
    pub fn applied(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| !c.transient)
            .map(|c| c.action)
            .collect()
    }

    /// One line per request that failed verification.
    pub fn verification_failures(&self) -> Vec<String> {
        lock(&self.state).failures.clone()
    }

    /// One line per change refused because the function was not `Active` (or a duplicate).
    pub fn refusals(&self) -> Vec<String> {
        lock(&self.state).refusals.clone()
    }

    /// The function, its transition settled to now.
    pub fn function(&self, namespace: &str, name: &str) -> Option<Func> {
        let mut st = lock(&self.state);
        let key = (namespace.to_string(), name.to_string());
        settle(&mut st, &key);
        st.functions.get(&key).cloned()
    }

    /// Adds a trigger the console made (an MPS trigger).
    pub fn bind(&self, namespace: &str, name: &str, trigger: Trigger) {
        let mut st = lock(&self.state);
        let key = (namespace.to_string(), name.to_string());
        if let Some(f) = st.functions.get_mut(&key) {
            f.triggers.push(trigger);
        }
    }

    /// CAM roles.
    pub fn roles(&self) -> BTreeMap<String, Role> {
        lock(&self.state).roles.clone()
    }

    /// CAM policies: id -> (name, document).
    pub fn policies(&self) -> BTreeMap<u64, (String, Value)> {
        lock(&self.state).policies.clone()
    }
}

fn answer(st: &State, fields: Value) -> Reply {
    let mut response = match fields {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    response.insert(
        "RequestId".into(),
        Value::String(format!("fake-deploy-{:06}", st.requests)),
    );
    Reply::Send(
        Response::new(200, json!({ "Response": response }).to_string())
            .header("Content-Type", "application/json"),
    )
}

fn error(st: &State, code: &str, message: &str) -> Reply {
    answer(st, json!({"Error": {"Code": code, "Message": message}}))
}

/// Checks `value` against the model type `ty` (`str`, `int`, `bool`, `list:T`, a structure).
fn check_type(
    models: &Map<String, Value>,
    ty: &str,
    value: &Value,
    at: &str,
) -> Result<(), String> {
    if let Some(item) = ty.strip_prefix("list:") {
        let Value::Array(items) = value else {
            return Err(format!("{at} must be an array of {item}"));
        };
        for (i, v) in items.iter().enumerate() {
            check_type(models, item, v, &format!("{at}[{i}]"))?;
        }
        return Ok(());
    }
    match ty {
        "str" if value.is_string() => Ok(()),
        "int" if value.is_i64() || value.is_u64() => Ok(()),
        "bool" if value.is_boolean() => Ok(()),
        "float" if value.is_number() => Ok(()),
        "str" | "int" | "bool" | "float" => Err(format!("{at} must be of type {ty}, got {value}")),
        structure => {
            let fields = models
                .get(structure)
                .and_then(Value::as_object)
                .ok_or_else(|| format!("{at}: no model {structure}"))?;
            let Value::Object(obj) = value else {
                return Err(format!("{at} must be an object ({structure})"));
            };
            for (k, v) in obj {
                let t = fields
                    .get(k)
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("{at}.{k} is not a field of {structure}"))?;
                check_type(models, t, v, &format!("{at}.{k}"))?;
            }
            Ok(())
        }
    }
}

fn check_body(
    st: &State,
    service: &str,
    action: &str,
    body: &Value,
) -> Result<(), (&'static str, String)> {
    let models = st.models[service]
        .as_object()
        .ok_or(("InternalError", "no models".to_string()))?;
    let model = format!("{action}Request");
    if !models.contains_key(&model) {
        return Err(("InvalidAction", format!("{service} has no action {action}")));
    }
    check_type(models, &model, body, action).map_err(|e| ("InvalidParameter", e))?;
    let required = REQUIRED
        .iter()
        .find(|(a, _)| *a == action)
        .map(|(_, r)| *r)
        .unwrap_or(&[]);
    for field in required {
        if body.get(field).is_none() {
            return Err(("MissingParameter", format!("{action} requires {field}")));
        }
    }
    Ok(())
}

/// Ends a finished transition.
fn settle(st: &mut State, key: &(String, String)) {
    let fails = st.opts.create_fails.clone();
    if let Some(f) = st.functions.get_mut(key) {
        if (f.status == "Creating" || f.status == "Updating") && Instant::now() >= f.ready_at {
            f.status = match (&fails, f.status.as_str()) {
                (Some(_), "Creating") => "CreateFailed".into(),
                _ => "Active".into(),
            };
        }
    }
}

fn handle(st: &mut State, service: &'static str, req: Request) -> Reply {
    st.requests += 1;
    let host = st.hosts.get(service).cloned().unwrap_or_default();
    let version = if service == "scf" {
        "2018-04-16"
    } else {
        "2019-01-16"
    };
    let token = st.opts.session_token.clone();
    let expect = Tc3Expect {
        host: &host,
        service,
        version,
        region: &st.opts.region,
        secret_id: &st.opts.secret_id,
        secret_key: &st.opts.secret_key,
        session_token: token.as_deref(),
        clock_skew_secs: 0,
    };
    let checked = check_tc3(&req, &expect).and_then(|action| {
        let body: Value = serde_json::from_slice(&req.body)
            .map_err(|e| ("InvalidParameter", format!("body is not JSON: {e}")))?;
        check_body(st, service, &action, &body)?;
        Ok((action, body))
    });
    let (action, body) = match checked {
        Ok(v) => v,
        Err((code, message)) => {
            st.failures.push(format!("{service}: {code}: {message}"));
            return error(st, code, &message);
        }
    };
    let transient = st.opts.transient_rate > 0.0 && st.rng.draw() < st.opts.transient_rate;
    st.calls.push(Call {
        service,
        action: action.clone(),
        body: body.clone(),
        transient,
        lost: false,
    });
    if transient {
        return if st.rng.draw() < 0.5 {
            error(st, "RequestLimitExceeded", "too many requests")
        } else {
            error(st, "InternalError", "internal error")
        };
    }
    if st.opts.echo_error.as_deref() == Some(action.as_str()) {
        // The token's value quoted so that it straddles the API's 300-character message
        // limit: a client that masks after cutting would leak its first part.
        let token = body["Environment"]["Variables"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["Key"] == "CALLBACK_TOKEN")
            .and_then(|v| v["Value"].as_str())
            .unwrap_or("");
        let lead = "invalid value of CALLBACK_TOKEN";
        let message = format!("{lead}{} {token}", ".".repeat(285 - lead.len()));
        return error(st, "InvalidParameterValue", &message);
    }
    let result = if service == "scf" {
        scf_action(st, &action, &body)
    } else {
        cam_action(st, &action, &body)
    };
    let changes = !(action.starts_with("Get") || action.starts_with("List"));
    if result.is_ok()
        && changes
        && st.opts.lost_answer_rate > 0.0
        && st.rng.draw() < st.opts.lost_answer_rate
    {
        if let Some(c) = st.calls.last_mut() {
            c.lost = true;
        }
        return error(st, "InternalError", "internal error");
    }
    match result {
        Ok(fields) => answer(st, fields),
        Err((code, message)) => {
            if code.starts_with("FailedOperation") || code.starts_with("ResourceInUse") {
                st.refusals.push(format!("{action}: {code}: {message}"));
            }
            error(st, code, &message)
        }
    }
}

type Outcome = Result<Value, (&'static str, String)>;

fn text<'a>(body: &'a Value, field: &str) -> &'a str {
    body.get(field).and_then(Value::as_str).unwrap_or("")
}

fn listed_desc(st: &State, t: &Trigger) -> String {
    match t.kind.as_str() {
        "timer" => json!({ "cron": t.desc }).to_string(),
        "http" => {
            let mut v: Value = serde_json::from_str(&t.desc).unwrap_or(json!({}));
            v["UrlConfig"] = json!({
                "ExtranetUrl": format!("https://{}-fakeurl.{}.tencentscf.com", st.opts.appid, st.opts.region)
            });
            v.to_string()
        }
        _ => t.desc.clone(),
    }
}

fn check_memory_timeout(body: &Value) -> Result<(), (&'static str, String)> {
    if let Some(m) = body.get("MemorySize").and_then(Value::as_u64) {
        if !(m == 64 || (128..=3072).contains(&m) && m % 128 == 0) {
            return Err((
                "InvalidParameterValue.MemorySize",
                format!("MemorySize {m}"),
            ));
        }
    }
    if let Some(t) = body.get("Timeout").and_then(Value::as_u64) {
        if !(1..=900).contains(&t) {
            return Err(("InvalidParameterValue.Timeout", format!("Timeout {t}")));
        }
    }
    Ok(())
}

fn scf_action(st: &mut State, action: &str, body: &Value) -> Outcome {
    let key = (
        body.get("Namespace")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string(),
        text(body, "FunctionName").to_string(),
    );
    settle(st, &key);
    let transition = st.opts.transition;
    let absent = || {
        (
            "ResourceNotFound.Function",
            format!("function {}/{} does not exist", key.0, key.1),
        )
    };
    if let Some(role) = body.get("Role").and_then(Value::as_str) {
        if !st.roles.contains_key(role) {
            return Err((
                "InvalidParameterValue.Role",
                format!("role {role} does not exist"),
            ));
        }
    }
    let fails = st.opts.create_fails.clone();
    let f = st.functions.get_mut(&key);
    match action {
        "GetFunction" => {
            let f = f.ok_or_else(absent)?;
            let reasons = match (&fails, f.status.as_str()) {
                (Some((code, message)), "CreateFailed") => {
                    json!([{"ErrorCode": code, "ErrorMessage": message}])
                }
                _ => json!([]),
            };
            let mut out = f.config.clone();
            out.insert("FunctionName".into(), json!(key.1));
            out.insert("Namespace".into(), json!(key.0));
            out.insert("Status".into(), json!(f.status));
            out.insert("StatusReasons".into(), reasons);
            Ok(Value::Object(out))
        }
        "CreateFunction" => {
            if f.is_some() {
                return Err((
                    "ResourceInUse.Function",
                    format!("function {} exists", key.1),
                ));
            }
            for (field, want) in [
                ("Runtime", "CustomRuntime"),
                ("Handler", "bootstrap"),
                ("Type", "Event"),
            ] {
                if text(body, field) != want {
                    return Err((
                        "InvalidParameterValue",
                        format!("{field} {:?}", body.get(field)),
                    ));
                }
            }
            check_memory_timeout(body)?;
            let zip = body["Code"]["ZipFile"].as_str().unwrap_or("").to_string();
            check_zip(&zip)?;
            let mut config = body.as_object().cloned().unwrap_or_default();
            for k in ["Code", "FunctionName", "Namespace"] {
                config.remove(k);
            }
            st.functions.insert(
                key,
                Func {
                    status: "Creating".into(),
                    ready_at: Instant::now() + transition,
                    zip_base64: zip,
                    config,
                    async_config: None,
                    triggers: Vec::new(),
                },
            );
            Ok(json!({}))
        }
        "UpdateFunctionCode" => {
            let f = f.ok_or_else(absent)?;
            if f.status != "Active" {
                return Err((
                    "FailedOperation.UpdateFunctionCode",
                    format!("function is {}: its code cannot be updated now", f.status),
                ));
            }
            let zip = text(body, "ZipFile").to_string();
            check_zip(&zip)?;
            f.zip_base64 = zip;
            f.status = "Updating".into();
            f.ready_at = Instant::now() + transition;
            Ok(json!({}))
        }
        "UpdateFunctionConfiguration" => {
            let f = f.ok_or_else(absent)?;
            if f.status != "Active" {
                return Err((
                    "FailedOperation.UpdateFunctionConfiguration",
                    format!(
                        "function is {}: its configuration cannot be updated now",
                        f.status
                    ),
                ));
            }
            check_memory_timeout(body)?;
            for (k, v) in body.as_object().into_iter().flatten() {
                if k != "FunctionName" && k != "Namespace" {
                    f.config.insert(k.clone(), v.clone());
                }
            }
            f.status = "Updating".into();
            f.ready_at = Instant::now() + transition;
            Ok(json!({}))
        }
        "UpdateFunctionEventInvokeConfig" => {
            let f = f.ok_or_else(absent)?;
            if f.status != "Active" {
                return Err((
                    "FailedOperation.UpdateFunctionEventInvokeConfig",
                    format!("function is {}", f.status),
                ));
            }
            let c = &body["AsyncTriggerConfig"];
            let retries = c["RetryConfig"][0]["RetryNum"].as_u64();
            let ttl = c["MsgTTL"].as_u64();
            let retries_ok = retries.is_some_and(|r| r <= 2);
            let ttl_ok = ttl.is_some_and(|t| (60..=21600).contains(&t));
            if !(retries_ok && ttl_ok) {
                return Err(("InvalidParameterValue.AsyncTriggerConfig", c.to_string()));
            }
            f.async_config = Some(c.clone());
            Ok(json!({}))
        }
        "ListTriggers" => {
            let f = f.ok_or_else(absent)?.clone();
            let offset = body.get("Offset").and_then(Value::as_u64).unwrap_or(0) as usize;
            let limit = body.get("Limit").and_then(Value::as_u64).unwrap_or(20) as usize;
            let page: Vec<Value> = f
                .triggers
                .iter()
                .skip(offset)
                .take(limit)
                .map(|t| {
                    json!({
                        "Type": t.kind, "TriggerName": t.name, "TriggerDesc": listed_desc(st, t),
                        "Enable": i64::from(t.enable == "OPEN"), "Qualifier": t.qualifier,
                        "AvailableStatus": "Available",
                    })
                })
                .collect();
            Ok(json!({"TotalCount": f.triggers.len(), "Triggers": page}))
        }
        "CreateTrigger" | "UpdateTrigger" => {
            let f = f.ok_or_else(absent)?;
            if f.status == "Creating" {
                return Err(("ResourceInUse.Function", "function is Creating".into()));
            }
            let t = Trigger {
                name: text(body, "TriggerName").into(),
                kind: text(body, "Type").into(),
                desc: text(body, "TriggerDesc").into(),
                qualifier: body
                    .get("Qualifier")
                    .and_then(Value::as_str)
                    .unwrap_or("$LATEST")
                    .into(),
                enable: body
                    .get("Enable")
                    .and_then(Value::as_str)
                    .unwrap_or("OPEN")
                    .into(),
            };
            check_trigger(&t)?;
            let same = |o: &Trigger| {
                (o.kind == t.kind && o.name == t.name)
                    || (t.kind == "http" && o.kind == "http" && o.qualifier == t.qualifier)
            };
            let at = f.triggers.iter().position(same);
            match (action, at) {
                ("CreateTrigger", Some(_)) => Err((
                    "ResourceInUse.Trigger",
                    format!("{} trigger {} exists", t.kind, t.name),
                )),
                ("CreateTrigger", None) => {
                    f.triggers.push(t);
                    Ok(json!({}))
                }
                (_, Some(i)) if f.triggers[i].name == t.name => {
                    f.triggers[i] = t;
                    Ok(json!({}))
                }
                _ => Err(("ResourceNotFound.Trigger", format!("no trigger {}", t.name))),
            }
        }
        _ => Err(("InvalidAction", action.to_string())),
    }
}

fn check_zip(b64: &str) -> Result<(), (&'static str, String)> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| {
            (
                "InvalidParameterValue.ZipFile",
                "ZipFile is not base64".to_string(),
            )
        })?;
    if !bytes.starts_with(b"PK") {
        return Err(("InvalidParameterValue.ZipFile", "not a zip".into()));
    }
    Ok(())
}

fn check_trigger(t: &Trigger) -> Result<(), (&'static str, String)> {
    if !matches!(t.enable.as_str(), "OPEN" | "CLOSE") {
        return Err(("InvalidParameterValue.Enable", t.enable.clone()));
    }
    match t.kind.as_str() {
        "timer" => {
            if t.desc.split_whitespace().count() != 7 {
                return Err((
                    "InvalidParameterValue.TriggerDesc",
                    format!("cron {:?}", t.desc),
                ));
            }
        }
        "http" => {
            let v: Value = serde_json::from_str(&t.desc)
                .map_err(|_| ("InvalidParameterValue.TriggerDesc", t.desc.clone()))?;
            if !matches!(v["AuthType"].as_str(), Some("NONE" | "CAM"))
                || !v["NetConfig"]["EnableExtranet"].is_boolean()
                || !v["NetConfig"]["EnableIntranet"].is_boolean()
            {
                return Err(("InvalidParameterValue.TriggerDesc", t.desc.clone()));
            }
        }
        "cos" | "cls" | "ckafka" => {}
        other => return Err(("InvalidParameterValue.Type", format!("Type {other}"))),
    }
    Ok(())
}

/// The page `Page` (from 1) of `Rp` items of `list`.
fn page_of(body: &Value, list: Vec<Value>) -> Vec<Value> {
    let page = body.get("Page").and_then(Value::as_u64).unwrap_or(1).max(1) as usize;
    let rp = body.get("Rp").and_then(Value::as_u64).unwrap_or(20) as usize;
    list.into_iter().skip((page - 1) * rp).take(rp).collect()
}

fn cam_action(st: &mut State, action: &str, body: &Value) -> Outcome {
    match action {
        "GetRole" => {
            let name = text(body, "RoleName");
            match st.roles.get(name) {
                Some(r) => Ok(
                    json!({"RoleInfo": {"RoleId": format!("id-{name}"), "RoleName": name,
                    "PolicyDocument": r.trust.to_string()}}),
                ),
                None => Err((
                    "ResourceNotFound.RoleNotExist",
                    format!("role {name} does not exist"),
                )),
            }
        }
        "CreateRole" => {
            let name = text(body, "RoleName").to_string();
            if st.roles.contains_key(&name) {
                return Err((
                    "InvalidParameter.RoleNameInUse",
                    format!("role {name} exists"),
                ));
            }
            let trust: Value =
                serde_json::from_str(text(body, "PolicyDocument")).map_err(|_| {
                    (
                        "InvalidParameter.PolicyDocumentError",
                        "not JSON".to_string(),
                    )
                })?;
            st.roles.insert(
                name.clone(),
                Role {
                    trust,
                    policies: Vec::new(),
                },
            );
            Ok(json!({"RoleId": format!("id-{name}")}))
        }
        "CreatePolicy" => {
            let name = text(body, "PolicyName").to_string();
            if st.policies.values().any(|(n, _)| *n == name) {
                return Err((
                    "FailedOperation.PolicyNameInUse",
                    format!("policy {name} exists"),
                ));
            }
            let doc: Value = serde_json::from_str(text(body, "PolicyDocument")).map_err(|_| {
                (
                    "InvalidParameter.PolicyDocumentError",
                    "not JSON".to_string(),
                )
            })?;
            let id = 1000 + st.policies.len() as u64;
            st.policies.insert(id, (name, doc));
            Ok(json!({"PolicyId": id}))
        }
        "AttachRolePolicy" => {
            let id = body.get("PolicyId").and_then(Value::as_u64).unwrap_or(0);
            if !st.policies.contains_key(&id) {
                return Err(("InvalidParameter.PolicyIdNotExist", format!("policy {id}")));
            }
            let role = text(body, "AttachRoleName");
            let r = st
                .roles
                .get_mut(role)
                .ok_or(("InvalidParameter.RoleNotExist", format!("role {role}")))?;
            if !r.policies.contains(&id) {
                r.policies.push(id);
            }
            Ok(json!({}))
        }
        "GetUserAppId" => Ok(
            json!({"Uin": st.opts.owner_uin, "OwnerUin": st.opts.owner_uin,
            "AppId": st.opts.appid}),
        ),
        "ListAttachedRolePolicies" => {
            let role = text(body, "RoleName");
            let r = st
                .roles
                .get(role)
                .ok_or(("InvalidParameter.RoleNotExist", format!("role {role}")))?;
            let list: Vec<Value> = r
                .policies
                .iter()
                .map(|id| json!({"PolicyId": id, "PolicyName": st.policies[id].0, "PolicyType": "User"}))
                .collect();
            Ok(json!({"TotalNum": list.len(), "List": page_of(body, list)}))
        }
        "ListPolicies" => {
            let keyword = text(body, "Keyword");
            let list: Vec<Value> = st
                .policies
                .iter()
                .filter(|(_, (name, _))| name.contains(keyword))
                .map(|(id, (name, _))| json!({"PolicyId": id, "PolicyName": name, "Type": 1}))
                .collect();
            Ok(json!({"TotalNum": list.len(), "List": page_of(body, list)}))
        }
        "GetPolicy" => {
            let id = body.get("PolicyId").and_then(Value::as_u64).unwrap_or(0);
            let (name, doc) = st
                .policies
                .get(&id)
                .ok_or(("ResourceNotFound.PolicyIdNotExist", format!("policy {id}")))?;
            Ok(json!({"PolicyName": name, "PolicyDocument": doc.to_string(), "Type": 1}))
        }
        "UpdatePolicy" => {
            let id = body.get("PolicyId").and_then(Value::as_u64).unwrap_or(0);
            let doc: Value = serde_json::from_str(text(body, "PolicyDocument")).map_err(|_| {
                (
                    "InvalidParameter.PolicyDocumentError",
                    "not JSON".to_string(),
                )
            })?;
            let entry = st
                .policies
                .get_mut(&id)
                .ok_or(("InvalidParameter.PolicyIdNotExist", format!("policy {id}")))?;
            entry.1 = doc;
            Ok(json!({}))
        }
        _ => Err(("InvalidAction", action.to_string())),
    }
}

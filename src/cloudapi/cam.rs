//! CAM's role and policy actions (Cloud API 3.0, version 2019-01-16) without I/O: the
//! requests with the official SDK's field names and types, the answers typed, and the trust
//! policy that lets SCF assume a role (`reference/scf-deploy.md`).

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::call::{ApiCall, ApiFailure, BuildError};

/// Cloud API service of CAM.
pub(crate) const SERVICE: &str = "cam";
/// `X-TC-Version` of the CAM API.
pub(crate) const VERSION: &str = "2019-01-16";

fn call<P: Serialize>(action: &'static str, params: &P) -> Result<ApiCall, BuildError> {
    ApiCall::new(SERVICE, VERSION, action, params, format!("cam:{action}"))
}

/// The trust policy of a role SCF runs functions as.
pub(crate) fn scf_trust_policy() -> String {
    json!({
        "version": "2.0",
        "statement": [{
            "action": "name/sts:AssumeRole",
            "effect": "allow",
            "principal": {"service": ["scf.qcloud.com"]}
        }]
    })
    .to_string()
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RoleName<'a> {
    role_name: &'a str,
}

/// `GetRole`: the role, or `ResourceNotFound.RoleNotExist` ([`is_role_absent`]).
pub(crate) fn get_role(name: &str) -> Result<ApiCall, BuildError> {
    call("GetRole", &RoleName { role_name: name })
}

/// Whether a failure says the role does not exist.
pub(crate) fn is_role_absent(failure: &ApiFailure) -> bool {
    failure
        .code()
        .is_some_and(|c| c.starts_with("ResourceNotFound.Role"))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreateRole<'a> {
    role_name: &'a str,
    policy_document: &'a str,
    description: &'a str,
}

/// `CreateRole` with the trust policy `trust`.
pub(crate) fn create_role(
    name: &str,
    trust: &str,
    description: &str,
) -> Result<ApiCall, BuildError> {
    call(
        "CreateRole",
        &CreateRole {
            role_name: name,
            policy_document: trust,
            description,
        },
    )
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreatePolicy<'a> {
    policy_name: &'a str,
    policy_document: &'a str,
    description: &'a str,
}

/// `CreatePolicy` (a custom policy whose document is `document`).
pub(crate) fn create_policy(
    name: &str,
    document: &str,
    description: &str,
) -> Result<ApiCall, BuildError> {
    call(
        "CreatePolicy",
        &CreatePolicy {
            policy_name: name,
            policy_document: document,
            description,
        },
    )
}

/// The answer of `CreatePolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreatedPolicy {
    /// The new policy's id.
    pub(crate) policy_id: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Attach<'a> {
    policy_id: u64,
    attach_role_name: &'a str,
}

/// `AttachRolePolicy`: attaches policy `policy_id` to role `role`.
pub(crate) fn attach_role_policy(policy_id: u64, role: &str) -> Result<ApiCall, BuildError> {
    call(
        "AttachRolePolicy",
        &Attach {
            policy_id,
            attach_role_name: role,
        },
    )
}

/// `GetUserAppId`: the account's `Uin` and `AppId` (resources of SCF policies name the uin).
pub(crate) fn get_user_app_id() -> Result<ApiCall, BuildError> {
    call("GetUserAppId", &json!({}))
}

/// The answer of `GetUserAppId`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Account {
    /// The caller's uin.
    pub(crate) uin: String,
    /// The account owner's uin: what resource names hold.
    pub(crate) owner_uin: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListAttached<'a> {
    role_name: &'a str,
    page: u32,
    rp: u32,
}

/// Largest page of CAM's list actions.
pub(crate) const PAGE: u32 = 200;

/// `ListAttachedRolePolicies`: the policies attached to role `role`, page `page` (from 1).
pub(crate) fn list_attached_role_policies(role: &str, page: u32) -> Result<ApiCall, BuildError> {
    call(
        "ListAttachedRolePolicies",
        &ListAttached {
            role_name: role,
            page,
            rp: PAGE,
        },
    )
}

/// A policy as CAM lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PolicyRef {
    /// Its id.
    pub(crate) policy_id: u64,
    /// Its name.
    #[serde(default)]
    pub(crate) policy_name: String,
}

/// A page of `ListAttachedRolePolicies` or `ListPolicies`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PolicyPage {
    /// Policies in all.
    #[serde(default)]
    pub(crate) total_num: u32,
    /// This page.
    #[serde(default)]
    pub(crate) list: Vec<PolicyRef>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListPolicies<'a> {
    rp: u32,
    page: u32,
    scope: &'static str,
    keyword: &'a str,
}

/// `ListPolicies` of the account's own (custom) policies whose name contains `keyword`.
pub(crate) fn list_policies(keyword: &str, page: u32) -> Result<ApiCall, BuildError> {
    call(
        "ListPolicies",
        &ListPolicies {
            rp: PAGE,
            page,
            scope: "Local",
            keyword,
        },
    )
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyId {
    policy_id: u64,
}

/// `GetPolicy`: the policy's document.
pub(crate) fn get_policy(policy_id: u64) -> Result<ApiCall, BuildError> {
    call("GetPolicy", &PolicyId { policy_id })
}

/// The part of a `GetPolicy` answer a deploy compares.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Policy {
    /// The document, a JSON text.
    #[serde(default)]
    pub(crate) policy_document: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UpdatePolicy<'a> {
    policy_id: u64,
    policy_document: &'a str,
}

/// `UpdatePolicy`: replaces the document of policy `policy_id`.
pub(crate) fn update_policy(policy_id: u64, document: &str) -> Result<ApiCall, BuildError> {
    call(
        "UpdatePolicy",
        &UpdatePolicy {
            policy_id,
            policy_document: document,
        },
    )
}

/// Whether a failure says a policy of that name exists already.
pub(crate) fn is_policy_name_taken(failure: &ApiFailure) -> bool {
    failure
        .code()
        .is_some_and(|c| c.contains("PolicyNameInUse") || c.contains("PolicyNameExists"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_requests_use_the_sdk_names_and_trust_scf() {
        let c = create_role("r", &scf_trust_policy(), "d").unwrap();
        assert_eq!((c.service, c.version), ("cam", "2019-01-16"));
        let body: serde_json::Value = serde_json::from_slice(&c.params).unwrap();
        let trust: serde_json::Value =
            serde_json::from_str(body["PolicyDocument"].as_str().unwrap()).unwrap();
        assert_eq!(
            trust["statement"][0]["principal"]["service"][0],
            "scf.qcloud.com"
        );
        let a = attach_role_policy(7, "r").unwrap();
        assert_eq!(&a.params[..], br#"{"PolicyId":7,"AttachRoleName":"r"}"#);
        assert!(is_role_absent(&ApiFailure::Api {
            status: 200,
            code: "ResourceNotFound.RoleNotExist".into(),
            message: String::new(),
            request_id: None
        }));
    }
}

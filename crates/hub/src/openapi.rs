//! The OpenAPI 3.1 document, generated from the route table so it always matches the router.

use crate::api::ROUTES;
use serde_json::{Value, json};

/// The hub API as OpenAPI 3.1.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, who, summary) in ROUTES {
        let security = match *who {
            "public" => json!([]),
            "site" => json!([{"siteToken": []}]),
            _ => json!([{"bearerToken": []}, {"sessionCookie": []}]),
        };
        let mut op = json!({
            "summary": summary,
            "x-kakehashi-role": who,
            "security": security,
            "responses": {
                "200": {"description": "OK"},
                "400": {"description": "Bad request: the message names the field", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "401": {"description": "No valid token or session"},
                "403": {"description": "The caller's role may not do this"}
            }
        });
        if path.contains("{id}") {
            op["parameters"] = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}]);
        }
        let entry = paths.entry((*path).to_owned()).or_insert_with(|| json!({}));
        entry[method.to_ascii_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "kakehashi hub", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Federated research hub: sites pull tasks (outbound only) and post signed, disclosure-gated answers."},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer", "description": "User API token (POST /api/tokens)"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE},
                "siteToken": {"type": "http", "scheme": "bearer", "description": "Site token from registration"}
            },
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "string"}, "message": {"type": "string"}}, "required": ["error", "message"]}}
        }
    })
}

//! The OpenAPI 3.1 document of `/api/v1`, served at `/api/v1/openapi.json`.

use axum::Json;
use serde_json::{Value, json};

pub async fn document() -> Json<Value> {
    Json(spec())
}

fn problem_responses(codes: &[&str]) -> Value {
    let mut m = serde_json::Map::new();
    for c in codes {
        m.insert(
            (*c).to_string(),
            json!({"description": "problem details", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}),
        );
    }
    Value::Object(m)
}

fn op(summary: &str, ok: (&str, Value), errors: &[&str], extra: Value) -> Value {
    let mut responses = problem_responses(errors);
    if let Value::Object(m) = &mut responses {
        let success = if ok.0 == "204" {
            json!({"description": "no content"})
        } else {
            json!({"description": "success", "content": {"application/json": {"schema": ok.1}}})
        };
        m.insert(ok.0.to_string(), success);
    }
    let mut o = json!({"summary": summary, "responses": responses});
    if let (Value::Object(o), Value::Object(e)) = (&mut o, extra) {
        o.extend(e);
    }
    o
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn body(schema: Value) -> Value {
    json!({"requestBody": {"required": true, "content": {"application/json": {"schema": schema}}}})
}

pub fn spec() -> Value {
    let number =
        json!({"name": "number", "in": "path", "required": true, "schema": {"type": "string"}});
    let lang = json!({"name": "lang", "in": "query", "required": false, "schema": {"type": "string", "enum": ["kk", "ru", "en"]}});
    let money = json!({"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2}$", "description": "tenge, exact to the tiyn"});
    let decimal = json!({"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"});
    let period = json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"});
    let date = json!({"type": "string", "format": "date"});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Esep API",
            "version": "1",
            "description": "The thin API of a Unified Settlement Center (БЕО / ЕРЦ): sign in, accounts, unified payment documents, meter readings. Errors are RFC 9457 problem details. Authentication: the HttpOnly session cookie set by POST /api/v1/session."
        },
        "components": {
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "esep_session"}},
            "schemas": {
                "Discrepancy": {"type": "object", "required": ["id", "source", "detected_on", "registered_on", "registration_deadline", "late", "description", "justification", "responsible", "status", "correction"], "properties": {
                    "id": {"type": "integer"}, "source": {"type": "string", "enum": ["check", "complaint", "audit", "bank_reconciliation", "operator"]}, "detected_on": date, "registered_on": date, "registration_deadline": date,
                    "late": {"type": "boolean"}, "description": {"type": "string"}, "justification": {"type": "string"}, "responsible": {"type": "string"},
                    "status": {"type": "string", "enum": ["registered", "notified", "correcting", "corrected", "closed"]}, "correction": {"type": ["string", "null"]}}},
                "Problem": {"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
                    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"},
                    "errors": {"type": "array", "items": {"type": "object", "required": ["field", "message"], "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}
                }},
                "SignInRequest": {"type": "object", "additionalProperties": false, "required": ["login", "password"], "properties": {
                    "login": {"type": "string", "description": "IIN, phone number (+7…) or staff login"}, "password": {"type": "string"}}},
                "Me": {"type": "object", "required": ["id", "role", "display_name"], "properties": {
                    "id": {"type": "integer"}, "role": {"type": "string", "enum": ["consumer", "provider", "operator", "auditor", "authority"]}, "display_name": {"type": "string"}}},
                "UpdSummary": {"type": "object", "required": ["number", "period", "version", "issued_at", "due_date", "total_due", "to_pay"], "properties": {
                    "number": {"type": "string"}, "period": period, "version": {"type": "integer"}, "issued_at": {"type": "string"}, "due_date": date, "total_due": money, "to_pay": money}},
                "AccountSummary": {"type": "object", "required": ["number", "address", "area_m2", "residents", "holder_name", "current_upd"], "properties": {
                    "number": {"type": "string"}, "address": {"type": "string"}, "area_m2": decimal, "residents": {"type": "integer"}, "holder_name": {"type": "string"},
                    "current_upd": {"oneOf": [r("UpdSummary"), {"type": "null"}]}}},
                "LinkAccountRequest": {"type": "object", "additionalProperties": false, "required": ["account_number", "last_upd_total"], "properties": {
                    "account_number": {"type": "string"}, "last_upd_total": money}},
                "LineView": {"type": "object", "required": ["line_no", "service_code", "service_name", "unit", "quantity", "opening", "charge", "recalculation", "paid", "due", "remaining", "formula", "explanation"], "properties": {
                    "line_no": {"type": "integer"}, "service_code": {"type": "string"}, "service_name": {"type": "string"}, "unit": {"type": "string"}, "quantity": decimal,
                    "opening": money, "charge": money, "recalculation": money, "paid": money, "due": money, "remaining": money, "formula": {"type": "string"}, "explanation": {"type": "object"}}},
                "ProviderGroup": {"type": "object", "required": ["provider_id", "name", "bin", "lines", "total_due"], "properties": {
                    "provider_id": {"type": "integer"}, "name": {"type": "string"}, "bin": {"type": "string"}, "lines": {"type": "array", "items": r("LineView")}, "total_due": money}},
                "SectionView": {"type": "object", "required": ["section", "title", "providers", "total_due"], "properties": {
                    "section": {"type": "string", "enum": ["utility", "additional"]}, "title": {"type": "string"}, "providers": {"type": "array", "items": r("ProviderGroup")}, "total_due": money}},
                "UpdView": {"type": "object", "required": ["number", "account_number", "address", "area_m2", "residents", "period", "version", "reason", "issued_at", "due_date", "sections", "total_charged", "total_due", "to_pay", "remaining", "versions"], "properties": {
                    "number": {"type": "string"}, "account_number": {"type": "string"}, "address": {"type": "string"}, "area_m2": decimal, "residents": {"type": "integer"},
                    "period": period, "version": {"type": "integer"}, "reason": {"type": ["string", "null"]}, "issued_at": {"type": "string"}, "due_date": date,
                    "sections": {"type": "array", "items": r("SectionView")}, "total_charged": money, "total_due": money, "to_pay": money, "remaining": money, "versions": {"type": "array", "items": {"type": "integer"}}}},
                "MeterView": {"type": "object", "required": ["id", "service_code", "service_name", "unit", "serial", "last_value", "last_period"], "properties": {
                    "id": {"type": "integer"}, "service_code": {"type": "string"}, "service_name": {"type": "string"}, "unit": {"type": "string"}, "serial": {"type": "string"},
                    "last_value": decimal, "last_period": {"oneOf": [period, {"type": "null"}]}}},
                "ReadingRequest": {"type": "object", "additionalProperties": false, "required": ["meter_id", "value"], "properties": {
                    "meter_id": {"type": "integer"}, "value": decimal, "period": period}},
                "Complaint": {"type": "object", "required": ["number", "kind", "channel", "subject", "status", "registered_on", "deadline", "due", "overdue"], "properties": {
                    "number": {"type": "string"}, "kind": {"type": "string"}, "channel": {"type": "string"}, "subject": {"type": "string"}, "body": {"type": "string"},
                    "account_number": {"type": ["string", "null"]}, "registered_on": date.clone(), "deadline": date.clone(), "extended_deadline": {"type": ["string", "null"]},
                    "extension_reason": {"type": ["string", "null"]}, "status": {"type": "string", "enum": ["registered", "extended", "answered"]}, "answer": {"type": ["string", "null"]},
                    "answered_on": {"type": ["string", "null"]}, "due": date.clone(), "overdue": {"type": "boolean"}}},
                "PaymentRequest": {"type": "object", "additionalProperties": false, "required": ["upd_number", "bank"], "properties": {
                    "upd_number": {"type": "string"}, "bank": {"type": "string"}, "lines": {"type": ["array", "null"], "items": {"type": "integer", "minimum": 0}}, "amount": {"oneOf": [money.clone(), {"type": "null"}]}}},
                "PaymentCreated": {"type": "object", "required": ["id", "status", "amount", "bank", "redirect_url"], "properties": {
                    "id": {"type": "string"}, "status": {"type": "string"}, "amount": money, "bank": {"type": "string"}, "redirect_url": {"type": "string"}}},
                "PaymentView": {"type": "object", "required": ["id", "status", "amount", "bank", "upd_number", "allocations"], "properties": {
                    "id": {"type": "string"}, "status": {"type": "string", "enum": ["created", "pending", "succeeded", "declined", "reversed"]}, "amount": money, "bank": {"type": "string"}, "upd_number": {"type": "string"},
                    "allocations": {"type": "array", "items": {"type": "object", "required": ["service_code", "provider_bin", "amount", "advance"], "properties": {"service_code": {"type": "string"}, "provider_bin": {"type": "string"}, "amount": money, "advance": money}}}}},
                "History": {"type": "object", "required": ["account_number", "periods", "payments"], "properties": {
                    "account_number": {"type": "string"},
                    "periods": {"type": "array", "items": {"type": "object", "required": ["period", "upd_number", "total_charged", "to_pay", "services"], "properties": {
                        "period": period, "upd_number": {"type": "string"}, "total_charged": money, "to_pay": money,
                        "services": {"type": "array", "items": {"type": "object", "required": ["service_code", "service_name", "amount"], "properties": {"service_code": {"type": "string"}, "service_name": {"type": "string"}, "amount": money}}}}}},
                    "payments": {"type": "array", "items": {"type": "object", "required": ["id", "created_at", "amount", "bank", "status", "upd_number"], "properties": {
                        "id": {"type": "string"}, "created_at": {"type": "string"}, "amount": money, "bank": {"type": "string"}, "status": {"type": "string"}, "upd_number": {"type": "string"}}}}}},
                "ChatMessage": {"type": "object", "required": ["id", "thread_id", "from_operator", "author", "body", "at"], "properties": {
                    "id": {"type": "integer"}, "thread_id": {"type": "integer"}, "from_operator": {"type": "boolean"}, "author": {"type": "string"}, "body": {"type": "string"}, "at": {"type": "string"}}},
                "ChatView": {"type": "object", "required": ["thread_id", "messages", "open_now", "next_open"], "properties": {
                    "thread_id": {"type": ["integer", "null"]}, "messages": {"type": "array", "items": r("ChatMessage")}, "open_now": {"type": "boolean"}, "next_open": {"type": ["string", "null"]}}},
                "ChatPost": {"type": "object", "additionalProperties": false, "required": ["body"], "properties": {"body": {"type": "string"}}},
                "ReadingAccepted": {"type": "object", "required": ["meter_id", "period", "previous", "value", "consumption", "flagged_for_review"], "properties": {
                    "meter_id": {"type": "integer"}, "period": period, "previous": decimal, "value": decimal, "consumption": decimal, "flagged_for_review": {"type": "boolean"}}}
            }
        },
        "paths": {
            "/api/v1/health": {"get": op("Liveness and the database backend", ("200", json!({"type": "object"})), &["503"], json!({}))},
            "/api/v1/openapi.json": {"get": op("This document", ("200", json!({"type": "object"})), &[], json!({}))},
            "/api/v1/session": {
                "post": op("Sign in; sets the session cookie", ("200", r("Me")), &["400", "401", "413", "415", "422", "429"], body(r("SignInRequest"))),
                "delete": op("Sign out", ("204", json!({})), &["401"], json!({"security": [{"session": []}]}))
            },
            "/api/v1/me": {"get": op("The signed-in user", ("200", r("Me")), &["401"], json!({"security": [{"session": []}]}))},
            "/api/v1/accounts": {"get": op("My personal accounts (D2)", ("200", json!({"type": "array", "items": r("AccountSummary")})), &["401", "403"], json!({"security": [{"session": []}]}))},
            "/api/v1/accounts/link": {"post": op("Link an account by its number and the total of its last UPD", ("200", r("AccountSummary")), &["400", "401", "403", "413", "415", "422", "429"],
                {let mut b = body(r("LinkAccountRequest")); b["security"] = json!([{"session": []}]); b})},
            "/api/v1/accounts/{number}/upds": {"get": op("The account's UPDs, newest first", ("200", json!({"type": "array", "items": r("UpdSummary")})), &["401", "403", "404"],
                json!({"parameters": [number], "security": [{"session": []}]}))},
            "/api/v1/accounts/{number}/meters": {"get": op("The account's meters and their last readings", ("200", json!({"type": "array", "items": r("MeterView")})), &["400", "401", "403", "404"],
                json!({"parameters": [number, lang], "security": [{"session": []}]}))},
            "/api/v1/upds/{number}": {"get": op("One unified payment document with every line explained (D1, T8)", ("200", r("UpdView")), &["400", "401", "403", "404"],
                json!({"parameters": [number, lang, {"name": "version", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0}}], "security": [{"session": []}]}))},
            "/api/v1/access-journal": {"get": op("The access journal: who read or tried to read whose data (auditors, operators)", ("200", json!({"type": "array", "items": {"type": "object", "required": ["at", "user_id", "action", "resource", "outcome"], "properties": {
                "at": {"type": "string"}, "user_id": {"type": ["integer", "null"]}, "action": {"type": "string"}, "resource": {"type": "string"}, "outcome": {"type": "string"}}}})), &["400", "401", "403"],
                json!({"parameters": [{"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}], "security": [{"session": []}]}))},
            "/api/v1/banks": {"get": op("The banks a consumer can pay through (D11: at least two)", ("200", json!({"type": "array", "items": {"type": "object", "required": ["code", "name"], "properties": {"code": {"type": "string"}, "name": {"type": "string"}}}})), &["401"], json!({"security": [{"session": []}]}))},
            "/api/v1/payments": {"post": op("Pay a UPD (all or chosen lines) through a bank; returns the bank's page to redirect to. Repeating a request with the same Idempotency-Key returns the first answer.", ("201", r("PaymentCreated")), &["400", "401", "403", "404", "413", "415", "422", "502"],
                {let mut b = body(r("PaymentRequest")); b["security"] = json!([{"session": []}]); b["parameters"] = json!([{"name": "Idempotency-Key", "in": "header", "required": true, "schema": {"type": "string", "minLength": 1, "maxLength": 100}}]); b})},
            "/api/v1/payments/{id}": {"get": op("A payment's status and how it was allocated", ("200", r("PaymentView")), &["401", "404"],
                json!({"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}], "security": [{"session": []}]}))},
            "/api/v1/banks/{code}/callback": {"post": op("A bank reports a payment's outcome (signed: X-Esep-Timestamp, X-Esep-Signature = sha256=HMAC-SHA256(secret, timestamp.body))", ("200", json!({"type": "object"})), &["400", "401", "404", "409", "422"],
                json!({"parameters": [{"name": "code", "in": "path", "required": true, "schema": {"type": "string"}}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}}}))},
            "/api/v1/complaints": {
                "post": op("File a complaint or application (D13): answered within 15 working days", ("201", r("Complaint")), &["400", "401", "403", "413", "415", "422"],
                    {let mut b = body(json!({"type": "object", "additionalProperties": false, "required": ["kind", "subject", "body"], "properties": {"kind": {"type": "string", "enum": ["complaint", "application"]}, "subject": {"type": "string"}, "body": {"type": "string"}, "account_number": {"type": ["string", "null"]}}})); b["security"] = json!([{"session": []}]); b}),
                "get": op("My complaints and applications with their deadlines", ("200", json!({"type": "array", "items": r("Complaint")})), &["401"], json!({"security": [{"session": []}]}))
            },
            "/api/v1/notices": {"get": op("My notices (e.g. an extended deadline and its reason)", ("200", json!({"type": "array", "items": {"type": "object"}})), &["401"], json!({"security": [{"session": []}]}))},
            "/api/v1/operator/complaints": {"get": op("The complaint queue: overdue first, then by deadline", ("200", json!({"type": "array", "items": r("Complaint")})), &["401", "403"], json!({"security": [{"session": []}]}))},
            "/api/v1/operator/complaints/{number}/extend": {"post": op("Extend the deadline once, by 1–5 working days, with a reason", ("200", r("Complaint")), &["400", "401", "403", "413", "415", "422"],
                {let mut b = body(json!({"type": "object", "additionalProperties": false, "required": ["days", "reason"], "properties": {"days": {"type": "integer", "minimum": 1, "maximum": 5}, "reason": {"type": "string"}}})); b["security"] = json!([{"session": []}]); b["parameters"] = json!([{"name": "number", "in": "path", "required": true, "schema": {"type": "string"}}, lang.clone()]); b})},
            "/api/v1/operator/complaints/{number}/answer": {"post": op("Answer a complaint", ("200", r("Complaint")), &["400", "401", "403", "413", "415", "422"],
                {let mut b = body(json!({"type": "object", "additionalProperties": false, "required": ["answer"], "properties": {"answer": {"type": "string"}}})); b["security"] = json!([{"session": []}]); b["parameters"] = json!([{"name": "number", "in": "path", "required": true, "schema": {"type": "string"}}]); b})},
            "/api/v1/debt-requests": {
                "post": op("An authority's request for an account's debt (D15); journaled", ("201", json!({"type": "object"})), &["400", "401", "403", "413", "415", "422"],
                    {let mut b = body(json!({"type": "object", "additionalProperties": false, "required": ["account_number", "legal_basis", "reference"], "properties": {"account_number": {"type": "string"}, "legal_basis": {"type": "string"}, "reference": {"type": "string"}}})); b["security"] = json!([{"session": []}]); b}),
                "get": op("Every debt request with its legal basis (auditors)", ("200", json!({"type": "array", "items": {"type": "object"}})), &["401", "403"], json!({"security": [{"session": []}]}))
            },
            "/api/v1/reports/provider": {"get": op("A provider's monthly report (D3): planned charges, payments received and paid out, debt, by service and territory", ("200", json!({"type": "object"})), &["400", "401", "403", "404"],
                json!({"parameters": [{"name": "bin", "in": "query", "required": true, "schema": {"type": "string"}}, {"name": "period", "in": "query", "required": true, "schema": period.clone()}], "security": [{"session": []}]}))},
            "/api/v1/accounts/{number}/history": {"get": op("The last 12 UPDs with the amounts by service, and the last payments (D1)", ("200", r("History")), &["400", "401", "403", "404"],
                json!({"parameters": [number.clone(), lang.clone()], "security": [{"session": []}]}))},
            "/api/v1/upds/{number}/pdf": {"get": {"summary": "The UPD on paper (T8): A4 PDF, fonts embedded, with a QR code that opens its payment page",
                "parameters": [number.clone(), lang.clone(), {"name": "version", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0}}], "security": [{"session": []}],
                "responses": ({let mut m = problem_responses(&["400", "401", "403", "404"]); m["200"] = json!({"description": "the PDF", "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}); m})}},
            "/api/v1/chat": {
                "get": op("My consultation chat (D12) and whether operators are at work now", ("200", r("ChatView")), &["401", "403"], json!({"security": [{"session": []}]})),
                "post": op("Write to the operators; out of hours the message is kept for the next working time", ("201", r("ChatMessage")), &["400", "401", "403", "413", "415", "422"],
                    {let mut b = body(r("ChatPost")); b["security"] = json!([{"session": []}]); b})
            },
            "/api/v1/chat/events": {"get": {"summary": "New chat messages as server-sent events (event `message`, data a ChatMessage): a consumer's own, or all for operators",
                "security": [{"session": []}],
                "responses": ({let mut m = problem_responses(&["401", "403"]); m["200"] = json!({"description": "an event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}}); m})}},
            "/api/v1/operator/chats": {"get": op("Conversations, those waiting for an answer first", ("200", json!({"type": "array", "items": {"type": "object", "required": ["thread_id", "consumer", "last_message", "last_at", "waiting"], "properties": {
                "thread_id": {"type": "integer"}, "consumer": {"type": "string"}, "last_message": {"type": "string"}, "last_at": {"type": "string"}, "waiting": {"type": "boolean"}}}})), &["401", "403"], json!({"security": [{"session": []}]}))},
            "/api/v1/operator/chats/{id}": {
                "get": op("One conversation's messages (journaled)", ("200", json!({"type": "array", "items": r("ChatMessage")})), &["401", "403", "404"],
                    json!({"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}], "security": [{"session": []}]})),
                "post": op("Answer a conversation", ("201", r("ChatMessage")), &["400", "401", "403", "404", "413", "415", "422"],
                    {let mut b = body(r("ChatPost")); b["security"] = json!([{"session": []}]); b["parameters"] = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}]); b})
            },
            "/api/v1/operator/discrepancies": {"get": op("The discrepancy journal (D8, D9), oldest first (operators, auditors; journaled)", ("200", json!({"type": "array", "items": r("Discrepancy")})), &["401", "403"], json!({"security": [{"session": []}]}))},
            "/api/v1/operator/discrepancies/{id}/close": {"post": op("Close a corrected discrepancy, or one that needs no correction, with a note", ("200", r("Discrepancy")), &["400", "401", "403", "404", "413", "415", "422"],
                {let mut b = body(json!({"type": "object", "additionalProperties": false, "required": ["note"], "properties": {"note": {"type": "string"}}})); b["security"] = json!([{"session": []}]); b["parameters"] = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}]); b})},
            "/api/v1/me/data": {"get": op("Everything held about me, to download (personal data law No. 94-V)", ("200", json!({"type": "object"})), &["401"], json!({"security": [{"session": []}]}))},
            "/api/v1/readings": {"post": op("Submit a meter reading", ("201", r("ReadingAccepted")), &["400", "401", "403", "404", "413", "415", "422"],
                {let mut b = body(r("ReadingRequest")); b["security"] = json!([{"session": []}]); b})}
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_route_is_documented_and_nothing_else() {
        let spec = super::spec();
        let paths = spec["paths"].as_object().unwrap();
        let mut documented: Vec<(String, String)> = paths
            .iter()
            .flat_map(|(p, ops)| {
                ops.as_object()
                    .unwrap()
                    .keys()
                    .map(move |m| (m.to_uppercase(), p.clone()))
            })
            .collect();
        let mut routed: Vec<(String, String)> = crate::api::ROUTES
            .iter()
            .map(|(m, p, _)| (m.to_string(), p.to_string()))
            .collect();
        documented.sort();
        routed.sort();
        assert_eq!(documented, routed);
    }
}

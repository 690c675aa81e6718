"""The OpenAPI 3.1 document of the API, with one record schema per catalogue form."""

from __future__ import annotations

from typing import Any

from web import services


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def openapi_document() -> dict[str, Any]:
    forms = services.forms()
    record_refs = [{"$ref": f"#/components/schemas/fields.{fid}"} for fid in sorted(forms)]
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                }
            },
        },
        "ExtractedField": {
            "type": "object",
            "required": ["value", "confidence", "source"],
            "properties": {
                "value": {"description": "typed value: yen as integer, dates YYYY-MM-DD, lists, booleans"},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                "page": {"type": ["integer", "null"]},
                "bbox": {
                    "type": ["array", "null"],
                    "items": {"type": "number"},
                    "minItems": 4,
                    "maxItems": 4,
                    "description": "x0, y0, x1, y1 in PDF points from the top-left of the page",
                },
                "source": {"type": "string", "enum": ["acroform", "docx", "text", "ocr"]},
                "review": {"type": "boolean", "description": "confidence under the review threshold"},
                "raw": {"type": ["string", "null"], "description": "the text as read"},
            },
        },
        "Finding": {
            "type": "object",
            "required": ["rule", "status", "message", "clause"],
            "properties": {
                "rule": {"type": "string"},
                "status": {"type": "string", "enum": ["pass", "fail", "warn", "not_applicable"]},
                "message": {"type": "string"},
                "clause": {"type": "string", "description": "seed file and section, e.g. 004 7(2)"},
                "evidence": {"type": "object"},
            },
        },
        "DocumentResult": {
            "type": "object",
            "required": ["file", "sha256", "form", "pages", "fields", "checks"],
            "properties": {
                "file": {"type": "string"},
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "form": {"type": ["string", "null"], "enum": [*sorted(forms), None]},
                "pages": {"type": "integer"},
                "first_page": {"type": "integer"},
                "fields": {
                    "description": "the form's fields by key; see fields.<form id>",
                    "anyOf": [*record_refs, {"type": "object"}],
                },
                "checks": {"type": "array", "items": {"$ref": "#/components/schemas/Finding"}},
                "text": {"type": ["string", "null"]},
            },
        },
        "ExtractionResult": {
            "type": "object",
            "required": ["documents"],
            "properties": {"documents": {"type": "array", "items": {"$ref": "#/components/schemas/DocumentResult"}}},
        },
        "Job": {
            "type": "object",
            "required": ["id", "status"],
            "properties": {
                "id": {"type": "string"},
                "status": {"type": "string", "enum": ["queued", "running", "done", "error"]},
                "pages": {"type": "integer"},
                "pages_done": {"type": "integer"},
                "created_at": {"type": "string", "format": "date-time"},
                "result": {"$ref": "#/components/schemas/ExtractionResult"},
                "error": {"$ref": "#/components/schemas/Error/properties/error"},
            },
        },
    }
    for fid, form in sorted(forms.items()):
        schema = form.json_schema_for_record()
        schema["title"] = f"{form.form_number or ''} {form.title}".strip()
        schemas[f"fields.{fid}"] = schema

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Madoguchi extraction API",
            "version": "1",
            "description": "Send a document (PDF, PNG, JPEG, TIFF, DOCX), get a structured record with "
            "per-field confidence, page and box, and the requirement checks when a program is given.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/extract": {
                "post": {
                    "operationId": "extract",
                    "summary": "Extract the records of one document",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["file"],
                                    "properties": {
                                        "file": {"type": "string", "format": "binary"},
                                        "program": {"type": "string", "enum": sorted(services.programs())},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "the extraction result (DESIGN 4.2)",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/ExtractionResult"}}
                            },
                        },
                        "202": {
                            "description": "large or multi-page: accepted as a job; poll its URL",
                            "headers": {"Location": {"schema": {"type": "string"}}},
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {"job": {"$ref": "#/components/schemas/Job"}},
                                    }
                                }
                            },
                        },
                        "400": _error("no file sent"),
                        "401": _error("missing or invalid token"),
                        "404": _error("unknown program"),
                        "413": _error("file too large or too many pages"),
                        "415": _error("not a PDF, PNG, JPEG, TIFF or DOCX (judged by content)"),
                        "422": _error("the file cannot be read (empty, corrupt, encrypted)"),
                        "429": _error("this token's rate limit is reached; the Retry-After header says when to retry"),
                        "503": _error("as many uploads are being read as the service takes; see Retry-After"),
                    },
                }
            },
            "/jobs/{id}": {
                "get": {
                    "operationId": "getJob",
                    "summary": "Status of an extraction job, then its result",
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {
                            "description": "the job",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}},
                        },
                        "401": _error("missing or invalid token"),
                        "404": _error("no such job for this token's account"),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
    }

"""The gateway's OpenAPI 3.1 document, built from the models it serves right now.

Each served model gets its own inference paths whose request schemas come from its
signature, so client generators and property-based testers see the real contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stratakit.gateway.binary import DATATYPES
from stratakit.gateway.inputs import Column
from stratakit.gateway.loading import LoadedModel

_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}},
    "required": ["error"],
}
_MLFLOW_ERROR = {
    "type": "object",
    "properties": {"error_code": {"type": "string"}, "message": {"type": "string"}},
    "required": ["error_code", "message"],
}
_DATATYPES = sorted(DATATYPES)
_GENERIC_TENSOR = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "datatype": {"enum": _DATATYPES},
        "data": {"type": "array"},
    },
    "required": ["name", "shape", "datatype", "data"],
}


def document(models: Mapping[str, LoadedModel], version: str) -> dict[str, Any]:
    """The document for the currently served ``models``."""
    paths = _common_paths()
    for name, model in sorted(models.items()):
        base = f"/v2/models/{name}"
        paths[f"{base}/infer"] = _infer(
            f"Inference on {name} (version {model.version})", _v2_request(_v2_tensor(model)), []
        )
        paths[f"/models/{name}/invocations"] = {
            "post": {
                "summary": f"MLflow scoring format for {name} (version {model.version})",
                "requestBody": _mlflow_body(model),
                "responses": _mlflow_responses(),
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "StrataKit serving gateway",
            "version": version,
            "description": "Every registered model holding the serving alias, over the Open "
            "Inference Protocol v2 and MLflow's /invocations format.",
        },
        "paths": paths,
    }


def _common_paths() -> dict[str, Any]:
    """The paths that exist whatever is served."""
    return {
        "/v2/health/live": _get("Liveness", {"200": _json({"type": "object"})}),
        "/v2/health/ready": _get(
            "Readiness: 200 once the registry has been read and models loaded",
            {"200": _json({"type": "object"}), "400": _json({"type": "object"})},
        ),
        "/v2": _get("Server metadata", {"200": _json({"type": "object"})}),
        "/v2/models/{name}": {
            "get": {
                "summary": "Model metadata: served version, inputs and outputs",
                "parameters": [_name_param()],
                "responses": {"200": _json({"type": "object"}), "404": _json(_ERROR)},
            }
        },
        "/v2/models/{name}/versions/{version}": {
            "get": {
                "summary": "Metadata of one version (404 unless it is the served one)",
                "parameters": [_name_param(), _version_param()],
                "responses": {"200": _json({"type": "object"}), "404": _json(_ERROR)},
            }
        },
        "/v2/models/{name}/ready": {
            "get": {
                "summary": "Model readiness",
                "parameters": [_name_param()],
                "responses": {"200": _json({"type": "object"}), "404": _json(_ERROR)},
            }
        },
        "/v2/models/{name}/versions/{version}/ready": {
            "get": {
                "summary": "Readiness of one version (404 unless it is the served one)",
                "parameters": [_name_param(), _version_param()],
                "responses": {"200": _json({"type": "object"}), "404": _json(_ERROR)},
            }
        },
        "/v2/models/{name}/infer": _infer(
            "Open Inference Protocol v2 inference on any served model",
            _v2_request(_GENERIC_TENSOR),
            [_name_param()],
        ),
        "/v2/models/{name}/versions/{version}/infer": _infer(
            "Inference on one version (404 unless it is the served one)",
            _v2_request(_GENERIC_TENSOR),
            [_name_param(), _version_param()],
        ),
        "/invocations": {
            "post": {
                "summary": "MLflow scoring format; names the model with ?model= when several",
                "parameters": [
                    {
                        "name": "model",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": _mlflow_body(None),
                "responses": _mlflow_responses(),
            }
        },
        "/metrics": _get("Prometheus metrics", {"200": {"description": "exposition text"}}),
    }


def _get(summary: str, responses: dict[str, Any]) -> dict[str, Any]:
    return {"get": {"summary": summary, "responses": responses}}


def _json(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"description": "JSON", "content": {"application/json": {"schema": dict(schema)}}}


def _name_param() -> dict[str, Any]:
    return {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}


def _version_param() -> dict[str, Any]:
    return {"name": "version", "in": "path", "required": True, "schema": {"type": "string"}}


#: The binary tensor data extension: the JSON header's length, then raw tensor bytes.
_HEADER_LENGTH = {
    "name": "Inference-Header-Content-Length",
    "in": "header",
    "required": False,
    "description": "Bytes of JSON header before the raw tensor data (binary_tensor_data).",
    "schema": {"type": "integer", "minimum": 0},
}
_BINARY_BODY = {
    "schema": {
        "type": "string",
        "format": "binary",
        "description": "JSON header, then each binary input's bytes (little-endian; BYTES "
        "elements prefixed by a 4-byte length), sizes in parameters.binary_data_size.",
    }
}


def _infer(summary: str, body: dict[str, Any], parameters: list[Any]) -> dict[str, Any]:
    ok = _json(
        {
            "type": "object",
            "properties": {
                "model_name": {"type": "string"},
                "model_version": {"type": "string"},
                "id": {"type": "string"},
                "outputs": {"type": "array", "items": {"type": "object"}},
            },
            "required": ["model_name", "model_version", "outputs"],
        }
    )
    ok["content"]["application/octet-stream"] = {"schema": {"type": "string", "format": "binary"}}
    return {
        "post": {
            "summary": summary,
            "parameters": [*parameters, _HEADER_LENGTH],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": body},
                    "application/octet-stream": _BINARY_BODY,
                },
            },
            "responses": {
                "200": ok,
                **{code: _json(_ERROR) for code in ("400", "404", "413", "415", "422")},
            },
        }
    }


def _v2_request(tensor: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "inputs": {"type": "array", "minItems": 1, "items": dict(tensor)},
            "outputs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "parameters": {
                            "type": "object",
                            "properties": {"binary_data": {"type": "boolean"}},
                        },
                    },
                    "required": ["name"],
                },
            },
            "parameters": {
                "type": "object",
                "properties": {"binary_data_output": {"type": "boolean"}},
            },
        },
        "required": ["inputs"],
    }


def _v2_tensor(model: LoadedModel) -> dict[str, Any]:
    if not model.spec.columns:
        return _GENERIC_TENSOR
    return {"oneOf": [_v2_column(column) for column in model.spec.columns]}


def _v2_column(column: Column) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "name": {"const": column.name},
            "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "datatype": {"const": column.datatype},
            "data": {"type": "array", "items": column.json_schema()},
        },
        "required": ["name", "shape", "datatype", "data"],
    }


def _mlflow_body(model: LoadedModel | None) -> dict[str, Any]:
    record: dict[str, Any] = {"type": "object"}
    if model is not None and model.spec.columns:
        record = {
            "type": "object",
            "properties": {c.name: c.json_schema() for c in model.spec.columns},
            "required": [c.name for c in model.spec.columns if c.required],
            "additionalProperties": False,
        }
    variants = [
        {
            "type": "object",
            "properties": {
                "dataframe_split": {
                    "type": "object",
                    "properties": {
                        "columns": {"type": "array", "items": {"type": "string"}},
                        "data": {"type": "array", "items": {"type": "array"}},
                    },
                    "required": ["data"],
                }
            },
            "required": ["dataframe_split"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"dataframe_records": {"type": "array", "minItems": 1, "items": record}},
            "required": ["dataframe_records"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"instances": {"type": "array", "minItems": 1}},
            "required": ["instances"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"inputs": {"type": ["array", "object"]}},
            "required": ["inputs"],
            "additionalProperties": False,
        },
    ]
    return {
        "required": True,
        "content": {
            "application/json": {"schema": {"oneOf": variants}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }


def _mlflow_responses() -> dict[str, Any]:
    return {
        "200": _json(
            {"type": "object", "properties": {"predictions": {}}, "required": ["predictions"]}
        ),
        **{code: _json(_MLFLOW_ERROR) for code in ("400", "404", "413", "415", "422")},
    }

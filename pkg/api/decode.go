package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// decodeBody decodes a JSON object body into v, rejecting unknown fields and
// trailing data. Problems come back as 400 responses naming the field or the
// position.
func decodeBody(body []byte, v any) (response, bool) {
	if len(bytes.TrimSpace(body)) == 0 {
		return errorResponse(400, CodeInvalidRequest, "a JSON request body is required", ""), false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(body, err), false
	}
	end := dec.InputOffset()
	if rest := bytes.TrimLeft(body[end:], " \t\r\n"); len(rest) > 0 {
		line, col := position(body, int64(len(body)-len(rest)))
		return errorResponse(400, CodeInvalidJSON, fmt.Sprintf("unexpected data after the JSON object at line %d, column %d", line, col), ""), false
	}
	return response{}, true
}

func decodeError(body []byte, err error) response {
	var (
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		line, col := position(body, max(syntax.Offset-1, 0)) // Offset is just past the offending byte
		return errorResponse(400, CodeInvalidJSON, fmt.Sprintf("invalid JSON at line %d, column %d: %s", line, col, strings.TrimPrefix(syntax.Error(), "json: ")), "")
	case errors.Is(err, io.ErrUnexpectedEOF):
		line, col := position(body, int64(len(body)))
		return errorResponse(400, CodeInvalidJSON, fmt.Sprintf("invalid JSON at line %d, column %d: unexpected end of input", line, col), "")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return errorResponse(400, CodeInvalidRequest, fmt.Sprintf("the request body must be a JSON object, not %s", typeErr.Value), "")
		}
		return errorResponse(400, CodeInvalidRequest, fmt.Sprintf("%s: must be %s, not %s", field, jsonTypeName(typeErr.Type), typeErr.Value), field)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		field := strings.Trim(name, `"`)
		return errorResponse(400, CodeInvalidRequest, fmt.Sprintf("unknown field %q", field), field)
	}
	return errorResponse(400, CodeInvalidJSON, "invalid JSON body", "")
}

func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Bool:
		return "a boolean"
	}
	return "another type"
}

// position turns a byte offset into the 1-based line and column of the
// byte at that offset.
func position(body []byte, offset int64) (line, col int) {
	if offset > int64(len(body)) {
		offset = int64(len(body))
	}
	line, col = 1, 1
	for _, b := range body[:offset] {
		if b == '\n' {
			line++
			col = 1
			continue
		}
		col++
	}
	return line, col
}

package template_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tasker-go/tasker/pkg/template"
)

func ExampleParse() {
	src := []byte(`
namespace: shop
name: orders
version: "1.0"
input_schema:
  type: object
  required: [order_id]
  properties:
    order_id: {type: string}
steps:
  - name: validate
    handler: shop.validate
  - name: route
    type: decision
    handler: {callable: shop.route}
    depends_on: [validate]
  - name: express
    handler: shop.express
    dependencies: [route]
`)
	tmpl, err := template.Parse(src, "orders.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tmpl.Key())
	fmt.Println(tmpl.InitialSteps())
	fmt.Println(tmpl.DecisionDescendants("route"))

	var cerr *template.ContextError
	if errors.As(tmpl.ValidateContext(json.RawMessage(`{}`)), &cerr) {
		fmt.Println(cerr.Field, cerr.Reason)
	}
	// Output:
	// shop/orders:1.0
	// [validate route]
	// [express]
	// /order_id is required
}

func ExampleValidationError() {
	_, err := template.Parse([]byte(`
namespace: shop
name: orders
version: "1.0"
steps:
  - name: validate
    handler: shop.validate
    retry: {max_atempts: 3}
  - name: ship
    handler: shop.ship
    dependencies: [validate, pack]
`), "orders.yaml")
	fmt.Println(err)
	// Output:
	// orders.yaml: steps[0].retry.max_atempts: unknown key (did you mean "max_attempts"?) (line 8)
	// orders.yaml: steps[1].dependencies[1]: unknown step "pack" (line 11)
}

package orders

//go:generate go run ../../cmd/overlap gen wsdl -package orders -o purchaseorder_wsdl.go PurchaseOrder.wsdl

package wsdlgen

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestCheckedInCodeIsCurrent regenerates the orders service's code from its
// WSDL and fails on any difference: run `go generate ./services/orders`
// after changing the WSDL or the generator.
func TestCheckedInCodeIsCurrent(t *testing.T) {
	src, err := os.ReadFile("../../services/orders/PurchaseOrder.wsdl")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Generate("../../services/orders/PurchaseOrder.wsdl", src, "orders")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../services/orders/purchaseorder_wsdl.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("services/orders/purchaseorder_wsdl.go is not what the generator makes of PurchaseOrder.wsdl; run go generate ./services/orders")
	}
}

// The published copy of the seed's WSDL has https:// namespaces: it is read
// as the standard ones.
func TestHTTPSNamespaces(t *testing.T) {
	src, err := os.ReadFile("../../services/orders/PurchaseOrder.wsdl")
	if err != nil {
		t.Fatal(err)
	}
	src = bytes.ReplaceAll(src, []byte("http://"), []byte("https://"))
	got, err := Generate("seed.wsdl", src, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte(`ActionOrder = "https://example.org/purchaseorder"`)) {
		t.Fatal("actions not kept as written")
	}
}

func TestUnsupportedReportedByNameAndLine(t *testing.T) {
	doc := `<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:tns="urn:t" targetNamespace="urn:t">
  <wsdl:types>
    <xsd:schema targetNamespace="urn:t" elementFormDefault="qualified">
      <xsd:element name="A">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="when" type="xsd:dateTime"/>
            <xsd:element name="many" type="xsd:int" maxOccurs="unbounded"/>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
      <xsd:complexType name="Named"/>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="M"><wsdl:part name="p" element="tns:A"/></wsdl:message>
  <wsdl:portType name="P">
    <wsdl:operation name="Op"><wsdl:input message="tns:M"/></wsdl:operation>
  </wsdl:portType>
</wsdl:definitions>`
	_, err := Generate("t.wsdl", []byte(doc), "p")
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		"t.wsdl:8: element A, field when: type xsd:dateTime is not supported",
		"t.wsdl:9: element A, field many: maxOccurs unbounded is not supported",
		"t.wsdl:13: schema: xsd:complexType is not supported",
		"t.wsdl:18: operation Op: message M has no wsaw:Action",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

// The PurchaseOrder contract of the seed's WSDL, for WCF (Mono): data
// contracts shaped like the WSDL's elements, message contracts that put
// them unwrapped in the body, and the typed OrderNotFound fault.
using System;
using System.Runtime.Serialization;
using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Xml;

namespace Overlap.Wcf
{
	[DataContract(Name = "PurchaseOrderType", Namespace = "http://example.org")]
	public class PurchaseOrderType
	{
		[DataMember(Name = "quantity", Order = 1)] public int Quantity;
		[DataMember(Name = "productName", Order = 2)] public string ProductName;
	}

	[DataContract(Name = "OrderConfirmationType", Namespace = "http://example.org")]
	public class OrderConfirmationType
	{
		[DataMember(Name = "orderID", Order = 1)] public uint OrderID;
		[DataMember(Name = "expectedShipDate", Order = 2)] public string ExpectedShipDate;
	}

	[DataContract(Name = "GetOrderStatusType", Namespace = "http://example.org")]
	public class GetOrderStatusType
	{
		[DataMember(Name = "orderID", Order = 1)] public uint OrderID;
	}

	[DataContract(Name = "GetOrderStatusResponseType", Namespace = "http://example.org")]
	public class GetOrderStatusResponseType
	{
		[DataMember(Name = "orderID", Order = 1)] public uint OrderID;
		[DataMember(Name = "status", Order = 2)] public string Status;
	}

	[DataContract(Name = "OrderNotFoundFaultType", Namespace = "http://example.org")]
	public class OrderNotFoundFaultType
	{
		[DataMember(Name = "orderID", Order = 1)] public uint OrderID;
	}

	[MessageContract(IsWrapped = false)]
	public class OrderRequest
	{
		[MessageBodyMember(Name = "PurchaseOrderType", Namespace = "http://example.org")] public PurchaseOrderType Order;
	}

	[MessageContract(IsWrapped = false)]
	public class OrderResponse
	{
		[MessageBodyMember(Name = "OrderConfirmationType", Namespace = "http://example.org")] public OrderConfirmationType Confirmation;
	}

	[MessageContract(IsWrapped = false)]
	public class StatusRequest
	{
		[MessageBodyMember(Name = "GetOrderStatusType", Namespace = "http://example.org")] public GetOrderStatusType Query;
	}

	[MessageContract(IsWrapped = false)]
	public class StatusResponse
	{
		[MessageBodyMember(Name = "GetOrderStatusResponseType", Namespace = "http://example.org")] public GetOrderStatusResponseType Status;
	}

	[ServiceContract(Namespace = "http://example.org", SessionMode = SessionMode.Required)]
	public interface IPurchaseOrder
	{
		[OperationContract(Action = "http://example.org/purchaseorder", ReplyAction = "http://example.org/orderconfirmation")]
		OrderResponse Order(OrderRequest request);

		[OperationContract(Action = "http://example.org/getorderstatus", ReplyAction = "http://example.org/getorderstatusresponse")]
		[FaultContract(typeof(OrderNotFoundFaultType), Action = "http://example.org/ordernotfound", Name = "OrderNotFoundFaultType", Namespace = "http://example.org")]
		StatusResponse OrderStatus(StatusRequest request);
	}

	// The seed's one-way stream: one message whose body is any number of
	// PurchaseOrderType elements.
	[ServiceContract(Namespace = "http://example.org", SessionMode = SessionMode.Required)]
	public interface IPurchaseOrderStream
	{
		[OperationContract(IsOneWay = true, Action = "http://example.org/purchaseorder")]
		void Orders(Message orders);
	}

	// Writes count PurchaseOrderType elements, as they are pulled: the body
	// is streamed from C# too.
	public class OrdersBodyWriter : BodyWriter
	{
		int first, count;
		string product;

		public OrdersBodyWriter(int first, int count, string product) : base(false)
		{
			this.first = first;
			this.count = count;
			this.product = product;
		}

		protected override void OnWriteBodyContents(XmlDictionaryWriter w)
		{
			for (int i = 0; i < count; i++) {
				w.WriteStartElement("PurchaseOrderType", "http://example.org");
				w.WriteElementString("quantity", "http://example.org", XmlConvert.ToString(first + i));
				w.WriteElementString("productName", "http://example.org", product);
				w.WriteEndElement();
			}
		}
	}

	public static class Bindings
	{
		// Text SOAP 1.2 + WS-Addressing 1.0, UTF-8, over net.tcp: what
		// overlap serves until the binary encoding lands (issue 6).
		public static Binding Text()
		{
			var enc = new TextMessageEncodingBindingElement(MessageVersion.Soap12WSAddressing10, System.Text.Encoding.UTF8);
			var tcp = new TcpTransportBindingElement();
			tcp.MaxReceivedMessageSize = 64L << 20;
			tcp.ListenBacklog = 1000; // the default, 10, resets a burst of 100 sessions
			var b = new CustomBinding(enc, tcp);
			b.SendTimeout = b.ReceiveTimeout = b.OpenTimeout = b.CloseTimeout = TimeSpan.FromSeconds(30);
			return b;
		}
	}
}

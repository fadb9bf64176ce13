// A WCF (Mono) service host of the PurchaseOrder contract with a stock
// NetTcpBinding(SecurityMode.None), nothing configured but the address
// (binary XML with an in-band dictionary), for overlap's Go client in
// binary: Order and OrderStatus (with the OrderNotFound fault) at
// net.tcp://127.0.0.1:PORT/example. Usage: stockserver.exe PORT. Prints
// "ready" when listening; runs until stdin closes.
using System;
using System.ServiceModel;
using System.Threading;

namespace Overlap.Wcf
{
	[ServiceBehavior(InstanceContextMode = InstanceContextMode.Single, ConcurrencyMode = ConcurrencyMode.Multiple)]
	public class StockService : IPurchaseOrder
	{
		int next;

		public OrderResponse Order(OrderRequest request)
		{
			var id = (uint) Interlocked.Increment(ref next);
			var o = request.Order;
			return new OrderResponse { Confirmation = new OrderConfirmationType { OrderID = id, ExpectedShipDate = o.ProductName + " x" + o.Quantity } };
		}

		public StatusResponse OrderStatus(StatusRequest request)
		{
			var id = request.Query.OrderID;
			if (id == 0 || id > next)
				throw new FaultException<OrderNotFoundFaultType>(new OrderNotFoundFaultType { OrderID = id }, new FaultReason("order not found"), new FaultCode("Sender"), "http://example.org/ordernotfound");
			return new StatusResponse { Status = new GetOrderStatusResponseType { OrderID = id, Status = "accepted" } };
		}
	}

	public static class StockServer
	{
		public static int Main(string[] args)
		{
			var host = new ServiceHost(new StockService());
			host.AddServiceEndpoint(typeof(IPurchaseOrder), new NetTcpBinding(SecurityMode.None), "net.tcp://127.0.0.1:" + args[0] + "/example");
			host.Open();
			Console.WriteLine("ready");
			while (Console.In.ReadLine() != null) // until stdin closes
				;
			host.Close();
			return 0;
		}
	}
}

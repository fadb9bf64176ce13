// A WCF (Mono) service host of the PurchaseOrder contract, for overlap's Go
// client: Order and OrderStatus (with the OrderNotFound fault) at
// net.tcp://127.0.0.1:PORT/example, and the one-way stream at
// net.tcp://127.0.0.1:PORT2/stream (Mono cannot share a port between
// endpoints), which counts the PurchaseOrderType elements of each body as
// it reads them. Usage: server.exe PORT PORT2 [quiet]. Prints "ready" when
// listening and "received N SUM" per streamed message; with quiet, only the
// totals, for each line read on stdin, until stdin closes (benchmarks):
// "total MESSAGES ORDERS SECONDS" where SECONDS is the time from the first
// streamed message read to the last.
using System;
using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Threading;
using System.Xml;

namespace Overlap.Wcf
{
	[ServiceBehavior(InstanceContextMode = InstanceContextMode.Single, ConcurrencyMode = ConcurrencyMode.Multiple)]
	public class Service : IPurchaseOrder, IPurchaseOrderStream
	{
		int next;
		public bool Quiet;
		public long Messages, Elements, FirstTicks, LastTicks;
		public System.Diagnostics.Stopwatch Clock = System.Diagnostics.Stopwatch.StartNew();

		public OrderResponse Order(OrderRequest request)
		{
			var id = (uint) Interlocked.Increment(ref next);
			return new OrderResponse { Confirmation = new OrderConfirmationType { OrderID = id, ExpectedShipDate = "2026-12-01" } };
		}

		public StatusResponse OrderStatus(StatusRequest request)
		{
			var id = request.Query.OrderID;
			if (id == 0 || id > next)
				throw new FaultException<OrderNotFoundFaultType>(new OrderNotFoundFaultType { OrderID = id }, new FaultReason("order not found"), new FaultCode("Sender"), "http://example.org/ordernotfound");
			return new StatusResponse { Status = new GetOrderStatusResponseType { OrderID = id, Status = "accepted" } };
		}

		public void Orders(Message orders)
		{
			var r = orders.GetReaderAtBodyContents();
			long n = 0, total = 0;
			while (r.IsStartElement("PurchaseOrderType", "http://example.org")) {
				r.ReadStartElement();
				r.ReadStartElement("quantity", "http://example.org");
				total += r.ReadContentAsInt();
				r.ReadEndElement();
				r.ReadElementString("productName", "http://example.org");
				r.ReadEndElement();
				r.MoveToContent();
				n++;
			}
			var now = Clock.ElapsedTicks;
			Interlocked.CompareExchange(ref FirstTicks, now, 0);
			Interlocked.Exchange(ref LastTicks, now);
			Interlocked.Increment(ref Messages);
			Interlocked.Add(ref Elements, n);
			if (!Quiet)
				Console.WriteLine("received {0} {1}", n, total);
		}
	}

	public static class Server
	{
		public static int Main(string[] args)
		{
			var svc = new Service { Quiet = args.Length > 2 && args[2] == "quiet" };
			var host = new ServiceHost(svc);
			// The defaults (10 sessions) refuse a burst of 100 sessions.
			var throttle = host.Description.Behaviors.Find<System.ServiceModel.Description.ServiceThrottlingBehavior>();
			if (throttle == null) {
				throttle = new System.ServiceModel.Description.ServiceThrottlingBehavior();
				host.Description.Behaviors.Add(throttle);
			}
			throttle.MaxConcurrentSessions = throttle.MaxConcurrentCalls = throttle.MaxConcurrentInstances = 1000;
			host.AddServiceEndpoint(typeof(IPurchaseOrder), Bindings.Text(), "net.tcp://127.0.0.1:" + args[0] + "/example");
			host.AddServiceEndpoint(typeof(IPurchaseOrderStream), Bindings.Text(), "net.tcp://127.0.0.1:" + args[1] + "/stream");
			host.Open();
			Console.WriteLine("ready");
			while (Console.In.ReadLine() != null) // until stdin closes
				Console.WriteLine("total {0} {1} {2:F3}", svc.Messages, svc.Elements,
					(double) (svc.LastTicks - svc.FirstTicks) / System.Diagnostics.Stopwatch.Frequency);
			host.Close();
			return 0;
		}
	}
}

// A WCF client of `overlap serve orders` with a stock
// NetTcpBinding(SecurityMode.None), configured with nothing but the address
// (binary XML with an in-band dictionary, buffered transfer, duplex
// session): streams one-way PurchaseOrder messages, calls Order and
// OrderStatus, and catches the OrderNotFound fault as a typed
// FaultException. Usage: stockclient.exe URL MESSAGES PER_MESSAGE
using System;
using System.ServiceModel;
using System.ServiceModel.Channels;

namespace Overlap.Wcf
{
	public static class StockClient
	{
		public static int Main(string[] args)
		{
			var url = new EndpointAddress(args[0]);
			int messages = int.Parse(args[1]), per = int.Parse(args[2]);
			var sf = new ChannelFactory<IPurchaseOrderStream>(new NetTcpBinding(SecurityMode.None), url);
			var stream = sf.CreateChannel();
			var sent = 0;
			for (int m = 0; m < messages; m++) {
				var msg = Message.CreateMessage(MessageVersion.Soap12WSAddressing10, "http://example.org/purchaseorder", new OrdersBodyWriter(sent + 1, per, "Widget"));
				stream.Orders(msg);
				sent += per;
			}
			((IClientChannel) stream).Close();
			sf.Close();
			Console.WriteLine("streamed {0}", sent);

			var f = new ChannelFactory<IPurchaseOrder>(new NetTcpBinding(SecurityMode.None), url);
			var po = f.CreateChannel();
			var conf = po.Order(new OrderRequest { Order = new PurchaseOrderType { Quantity = 3, ProductName = "Desk" } }).Confirmation;
			Console.WriteLine("confirmation {0} {1}", conf.OrderID, conf.ExpectedShipDate);
			var st = po.OrderStatus(new StatusRequest { Query = new GetOrderStatusType { OrderID = conf.OrderID } }).Status;
			Console.WriteLine("status {0} {1}", st.OrderID, st.Status);
			try {
				po.OrderStatus(new StatusRequest { Query = new GetOrderStatusType { OrderID = 99999 } });
				Console.WriteLine("no fault");
			} catch (FaultException<OrderNotFoundFaultType> e) {
				Console.WriteLine("fault {0}", e.Detail.OrderID);
			}
			((IClientChannel) po).Close();
			f.Close();
			return 0;
		}
	}
}

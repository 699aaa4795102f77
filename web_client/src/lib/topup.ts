import { api } from "./api";

interface TopupOut {
  order_id: string;
  provider: string;
  status: string;
  pay_url: string | null;
}

/** Start a top-up.  The sandbox gateway (dev) pays it at once, through the same signed
 * notification a real one sends; Alipay and WeChat return a pay_url the person opens. */
export async function topUp(amountFen: number): Promise<TopupOut> {
  const order = await api<TopupOut>("POST", "/api/wallet/topups", { amount_fen: amountFen });
  if (order.provider !== "sandbox" || order.status === "paid") return order;
  return await api<TopupOut>("POST", `/api/payments/sandbox/pay/${order.order_id}`);
}

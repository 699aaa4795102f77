import { api, type Schema } from "./api";

type TopupOut = Schema<"TopupOut">;

/** Start a top-up.  The sandbox gateway (dev) pays it at once, through the same signed
 * notification a real one sends; Alipay and WeChat return a pay_url the person opens. */
export async function topUp(amountFen: number): Promise<TopupOut> {
  const order = await api.post("/api/wallet/topups", { body: { amount_fen: amountFen } });
  if (order.provider !== "sandbox" || order.status === "paid") return order;
  return await api.post("/api/payments/sandbox/pay/{order_id}", { params: { path: { order_id: order.order_id } } });
}

package shop.billing;

import org.springframework.kafka.annotation.KafkaListener;

public class Billing {
    @KafkaListener(topics = {"payments.v1", "refunds.v1"}, groupId = "billing")
    public void onPayment(String body) {
    }
}
